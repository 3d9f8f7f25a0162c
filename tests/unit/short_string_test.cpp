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

TEST_CASE("short_string: copy_short copies every length exactly and writes nothing past it",
          "[short_string]") {
  std::string from(200, ' ');
  for (std::size_t i = 0; i < from.size(); ++i) {
    from[i] = static_cast<char>('!' + i % 90);
  }
  for (const bool small_first : {false, true}) {
    for (std::size_t n = 0; n <= 150; ++n) {
      std::string to(200, '#');
      if (small_first) {
        sse::detail::copy_short<true>(&to[3], from.data() + 1, n);
      } else {
        sse::detail::copy_short(&to[3], from.data() + 1, n);
      }
      CAPTURE(small_first, n);
      CHECK(to.substr(0, 3) == "###");
      CHECK(to.substr(3, n) == from.substr(1, n));
      CHECK(to.substr(3 + n) == std::string(200 - 3 - n, '#'));
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
  CHECK(s.c_str()[s.size()] == '\0');
  sse::detail::assign_short(s, "");
  CHECK(s.empty());
  CHECK(s.c_str()[0] == '\0');
}

TEST_CASE("short_string: assign_short grows a string shorter than the value, then reuses it",
          "[short_string]") {
  std::string s;
  std::string longest;
  // Lengths up and down across the inline sizes and past them.
  for (const std::size_t n : {0U, 3U, 1U, 15U, 16U, 40U, 7U, 64U, 65U, 300U, 2U, 64U, 0U, 17U}) {
    const std::string value(n, static_cast<char>('a' + n % 26));
    sse::detail::assign_short(s, value);
    CAPTURE(n);
    CHECK(s == value);
    CHECK(std::string(s.c_str()) == value); // terminated where it ends
  }
}

TEST_CASE("short_string: writable lengthens only a string that is too short", "[short_string]") {
  std::string s = "abc";
  char* bytes = sse::detail::writable(s, 2);
  CHECK(s == "abc"); // long enough: untouched
  CHECK(bytes == s.data());
  bytes = sse::detail::writable(s, 10);
  CHECK(s.size() >= 10);
  CHECK(s.substr(0, 3) == "abc"); // what it held stays
  bytes[9] = 'z';
  CHECK(s[9] == 'z');
}
