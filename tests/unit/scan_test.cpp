// SPDX-License-Identifier: MIT
// The parser's byte scan: every classifier (portable, SSE2, AVX2) and the scanner agree with a
// byte-by-byte reference, whichever one the processor picks for the parser.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

// Random bytes, weighted so that each special byte and its neighbours come up often.
std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  static constexpr char picks[] = {'\n', '\r', '\0', 'a', ':', ' ', '\x7f', '\x80', '\xff', '\x0b'};
  std::string s(n, ' ');
  for (auto& c : s) {
    const auto r = rng();
    c = (r & 1) != 0 ? picks[(r >> 1) % sizeof picks] : static_cast<char>(r >> 8);
  }
  return s;
}

std::vector<std::size_t> reference_positions(const std::string& s) {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (sse::detail::is_special_byte(s[k])) {
      out.push_back(k);
    }
  }
  return out;
}

} // namespace

TEST_CASE("scan: the SSE2 and AVX2 classifiers match the portable one on every byte value",
          "[scan]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string block = random_bytes(rng, 64);
    if (round < 256) {
      block.assign(64, static_cast<char>(round)); // every byte value, in every lane
    }
    const std::uint64_t expected = sse::detail::special_mask_portable(block.data(), 64);
#if defined(__SSE2__)
    CHECK(sse::detail::special_mask_sse2(block.data()) == expected);
#endif
#if defined(SSE_CLIENT_AVX2_AT_RUN_TIME)
    if (sse::detail::has_avx2()) {
      CHECK(sse::detail::special_mask_avx2(block.data()) == expected);
    }
#endif
  }
}

TEST_CASE("scan: the scanner yields every special byte in order, with either classifier",
          "[scan]") {
  std::mt19937_64 rng(7);
  for (const bool avx2 : {false, sse::detail::has_avx2()}) {
    for (int round = 0; round < 300; ++round) {
      const std::string chunk = random_bytes(rng, rng() % 300);
      CAPTURE(avx2, round, chunk.size());
      sse::detail::special_scanner scan(chunk.data(), chunk.size(), avx2);
      // Resume at a random distance past each hit, as the parser does after CRLF or UTF-8.
      std::size_t from = 0;
      const auto all = reference_positions(chunk);
      while (true) {
        scan.skip_to(from);
        const std::size_t at = scan.next();
        std::size_t want = chunk.size();
        for (const std::size_t p : all) {
          if (p >= from) {
            want = p;
            break;
          }
        }
        REQUIRE(at == want);
        if (at == chunk.size()) {
          break;
        }
        from = at + 1 + rng() % 3;
      }
    }
  }
}

TEST_CASE("scan: pop() walks every special byte in turn, as the parser does after an LF",
          "[scan]") {
  std::mt19937_64 rng(11);
  for (const bool avx2 : {false, sse::detail::has_avx2()}) {
    for (int round = 0; round < 300; ++round) {
      const std::string chunk = random_bytes(rng, rng() % 300);
      CAPTURE(avx2, round, chunk.size());
      sse::detail::special_scanner scan(chunk.data(), chunk.size(), avx2);
      std::vector<std::size_t> seen;
      // Bounded: each pass consumes one special byte, and a chunk has at most its size of them.
      for (std::size_t guard = 0; guard <= chunk.size(); ++guard) {
        const std::size_t at = scan.next();
        if (at == chunk.size()) {
          break;
        }
        seen.push_back(at);
        scan.pop();
      }
      CHECK(seen == reference_positions(chunk));
    }
  }
}
