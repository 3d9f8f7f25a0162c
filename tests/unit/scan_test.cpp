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

// The portable build (tests/CMakeLists.txt) must run the plain C++ classifier alone.
#if defined(SSE_CLIENT_NO_SIMD) && (defined(SSE_CLIENT_SSE2) || defined(SSE_CLIENT_AVX2))
#error "SSE_CLIENT_NO_SIMD left a SIMD classifier in"
#endif

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

TEST_CASE("scan: the word, SSE2 and AVX2 classifiers match the portable one on every byte value",
          "[scan]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string block = random_bytes(rng, 64);
    if (round < 256) {
      block.assign(64, static_cast<char>(round)); // every byte value, in every lane
    }
    const std::uint64_t expected = sse::detail::special_mask_portable(block.data(), 64);
    CHECK(sse::detail::special_mask_words(block.data()) == expected);
#if defined(SSE_CLIENT_SSE2)
    CHECK(sse::detail::special_mask_sse2(block.data()) == expected);
#endif
#if defined(SSE_CLIENT_AVX2)
    if (sse::detail::has_avx2()) {
      CHECK(sse::detail::special_mask_avx2(block.data()) == expected);
    }
#endif
  }
}

TEST_CASE("scan: the word classifier on blocks of two values, in every pair of lanes", "[scan]") {
  // The carries of its arithmetic could only leak between neighbouring bytes: every value next
  // to every other value of interest, at every place in the block.
  static constexpr unsigned char values[] = {0x00, 0x01, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
                                             0x7F, 0x80, 0x81, 0x8A, 0x8D, 0xFE, 0xFF, 'a'};
  for (const unsigned char a : values) {
    for (const unsigned char b : values) {
      for (std::size_t at = 0; at < 64; ++at) {
        std::string block(64, static_cast<char>(a));
        block[at] = static_cast<char>(b);
        const std::uint64_t expected = sse::detail::special_mask_portable(block.data(), 64);
        if (sse::detail::special_mask_words(block.data()) != expected) {
          FAIL_CHECK("values " << unsigned{a} << " and " << unsigned{b} << " at " << at);
        }
      }
    }
  }
}

TEST_CASE("scan: count_trailing_zeros finds the lowest bit, with the builtin or without",
          "[scan]") {
  std::mt19937_64 rng(3);
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t alone = std::uint64_t{1} << bit;
    const std::uint64_t with_higher = alone | (rng() << bit);
    CHECK(sse::detail::count_trailing_zeros(alone) == bit);
    CHECK(sse::detail::count_trailing_zeros_portable(alone) == bit);
    CHECK(sse::detail::count_trailing_zeros(with_higher) == bit);
    CHECK(sse::detail::count_trailing_zeros_portable(with_higher) == bit);
  }
  static_assert(sse::detail::count_trailing_zeros_portable(std::uint64_t{1} << 63) == 63);
  static_assert(sse::detail::count_trailing_zeros_portable(0x30) == 4);
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
