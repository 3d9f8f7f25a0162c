// SPDX-License-Identifier: MIT
// The short-string helpers the parser and the listener dispatch compare types and ids with.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

TEST_CASE("short_string: equal_short agrees with == for every length and every differing byte",
          "[short_string]") {
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a(n, ' ');
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = static_cast<char>('a' + i % 26);
    }
    CAPTURE(n);
    CHECK(sse::detail::equal_short(a, std::string(a)));
    CHECK_FALSE(sse::detail::equal_short(a, a + "z"));
    CHECK_FALSE(sse::detail::equal_short(a + "z", a));
    for (std::size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 1);
      CAPTURE(i);
      CHECK_FALSE(sse::detail::equal_short(a, b));
    }
  }
}

TEST_CASE("short_string: assign_short replaces the contents and keeps the capacity",
          "[short_string]") {
  std::string s(100, 'x');
  const auto capacity = s.capacity();
  sse::detail::assign_short(s, "id-42");
  CHECK(s == "id-42");
  CHECK(s.capacity() == capacity);
  sse::detail::assign_short(s, "");
  CHECK(s.empty());
}
