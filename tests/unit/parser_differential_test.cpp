// SPDX-License-Identifier: MIT
// sse::parser against the naive reference parser on seeded random streams cut at random points.
#include <sse/sse.hpp>

#include "support/parser_harness.hpp"
#include "support/reference_parser.hpp"
#include <catch2/catch.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using rng_t = std::mt19937_64;

std::size_t pick(rng_t& rng, std::size_t n) {
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
}

template <std::size_t N>
const char* pick_from(rng_t& rng, const char* const (&options)[N]) {
  return options[pick(rng, N)];
}

// Bytes that exercise the decoder: valid sequences, invalid ones, cut ones, lone bytes.
std::string random_text(rng_t& rng) {
  static constexpr std::string_view pieces[] = {"a",
                                                "b",
                                                "x y",
                                                " ",
                                                "  ",
                                                ":",
                                                "0",
                                                "7",
                                                "42",
                                                "\t",
                                                "\xC3\xA9",
                                                "\xE2\x82\xAC",
                                                "\xF0\x9F\x98\x80",
                                                "\xEF\xBB\xBF",
                                                "\x80",
                                                "\xBF",
                                                "\xC0\xAF",
                                                "\xE0\x80\x80",
                                                "\xED\xA0\x80",
                                                "\xED\x9F\xBF",
                                                "\xF4\x90\x80\x80",
                                                "\xF4\x8F\xBF\xBF",
                                                "\xE2\x82",
                                                "\xF0\x9F\x98",
                                                "\xC3",
                                                "\xFF",
                                                "\xFE",
                                                "\xF5",
                                                std::string_view("\0", 1),
                                                "data",
                                                "id",
                                                "event",
                                                "retry",
                                                "\xEF\xBB"};
  std::string text;
  const std::size_t count = pick(rng, 5);
  for (std::size_t i = 0; i < count; ++i) {
    text += pieces[pick(rng, std::size(pieces))];
  }
  return text;
}

std::string random_line_end(rng_t& rng) {
  static const char* const ends[] = {"\n", "\n", "\n", "\r\n", "\r\n", "\r"};
  return pick_from(rng, ends);
}

// A stream from a small grammar: optional BOMs, then up to `max_lines` lines that are fields,
// comments, blank lines or noise, each with a random line ending; sometimes cut off at the end.
std::string random_stream(rng_t& rng, std::size_t max_lines = 24) {
  static const char* const names[] = {"data",
                                      "data",
                                      "data",
                                      "event",
                                      "id",
                                      "retry",
                                      "Data",
                                      "foo",
                                      "",
                                      "dat",
                                      "data ",
                                      "ID",
                                      ("\xEF\xBB\xBF" // a BOM, not at stream start
                                       "data")};
  static const char* const retries[] = {"1000", "0",  "007", "1a",
                                        "",     " 5", "-1",  "99999999999999999999999"};
  std::string stream;
  const std::size_t boms = pick(rng, 8) == 0 ? pick(rng, 3) : 0;
  for (std::size_t i = 0; i < boms; ++i) {
    stream += "\xEF\xBB\xBF";
  }
  if (pick(rng, 10) == 0) {
    stream += "\xEF\xBB"; // a BOM cut short
  }
  const std::size_t lines = pick(rng, max_lines);
  for (std::size_t i = 0; i < lines; ++i) {
    switch (pick(rng, 10)) {
    case 0:
    case 1:
      break; // blank line: dispatch
    case 2:
      stream += ":" + random_text(rng); // comment
      break;
    case 3:
      stream += random_text(rng); // noise: a field without colon, maybe with one inside
      break;
    default: {
      const std::string name = pick_from(rng, names);
      stream += name;
      if (pick(rng, 6) != 0) {
        stream += pick(rng, 3) == 0 ? ":" : ": ";
        stream += name == "retry" && pick(rng, 2) == 0 ? pick_from(rng, retries) : random_text(rng);
      }
    }
    }
    stream += random_line_end(rng);
  }
  if (pick(rng, 4) == 0) {
    stream += "data: " + random_text(rng); // an unterminated tail
  }
  return stream;
}

// The parser on `stream` cut at `cuts` reports what the reference parser does, or the test fails
// with both accounts.
void check_agrees(int n, const std::string& stream, const std::vector<std::size_t>& cuts,
                  std::size_t max_size, const sse_test::parse_record& expected) {
  const sse_test::parse_record got = sse_test::run_parser(stream, cuts, max_size);
  if (got != expected) {
    std::string at;
    for (const auto cut : cuts) {
      at += std::to_string(cut) + " ";
    }
    FAIL("stream #" << n << ": \"" << sse_test::escape(stream) << "\"\nmax " << max_size
                    << ", cuts: " << at << "\nparser:\n"
                    << sse_test::describe(got) << "\nreference:\n"
                    << sse_test::describe(expected));
  }
}

} // namespace

TEST_CASE("parser: agrees with the reference parser on random streams in random splits",
          "[parser][whatwg][differential]") {
  rng_t rng(0x5eed5eedULL);
  constexpr int streams = 10000;
  std::size_t events = 0;
  std::size_t too_large = 0;
  for (int n = 0; n < streams; ++n) {
    const std::string stream = random_stream(rng);
    // A small limit now and then, so too_large is compared as well.
    const std::size_t max_size =
        pick(rng, 8) == 0 ? 8 + pick(rng, 40) : sse::default_max_event_size;
    const sse_test::parse_record expected = sse_test::reference_parse(stream, max_size);
    events += expected.events.size();
    too_large += expected.too_large ? 1 : 0;
    for (int s = 0; s < 4; ++s) {
      const auto cuts =
          s == 0 ? std::vector<std::size_t>{} : sse_test::random_cuts(stream.size(), rng, 24);
      check_agrees(n, stream, cuts, max_size, expected);
    }
  }
  // The grammar must reach the interesting paths, not only produce noise.
  CHECK(events > std::size_t{streams} / 2);
  CHECK(too_large > std::size_t{streams} / 50);
}

// Long streams fed in big chunks: most lines lie whole in a chunk and away from its last 64
// bytes, where the parser takes them by its plain lane, and the CR, NUL and UTF-8 bytes among
// them fall at every place within its 64-byte blocks. The cuts are few, so chunks stay long.
TEST_CASE("parser: agrees with the reference parser on long streams in long chunks",
          "[parser][whatwg][differential]") {
  rng_t rng(0x10c4a11eULL);
  constexpr int streams = 1500;
  std::size_t events = 0;
  for (int n = 0; n < streams; ++n) {
    const std::string stream = random_stream(rng, 300);
    const std::size_t max_size =
        pick(rng, 8) == 0 ? 8 + pick(rng, 80) : sse::default_max_event_size;
    const sse_test::parse_record expected = sse_test::reference_parse(stream, max_size);
    events += expected.events.size();
    for (int s = 0; s < 3; ++s) {
      const auto cuts =
          s == 0 ? std::vector<std::size_t>{} : sse_test::random_cuts(stream.size(), rng, 4);
      check_agrees(n, stream, cuts, max_size, expected);
    }
  }
  CHECK(events > std::size_t{streams} * 10);
}

// A character that starts in the last block the plain lane may read and ends past the limit's
// reach, at every place around it, for limits around a block's size.
TEST_CASE("parser: agrees with the reference parser where a character crosses the lane's stop",
          "[parser][whatwg][differential]") {
  const std::string characters[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
  int n = 0;
  for (const std::string& character : characters) {
    for (std::size_t before = 0; before < 80; ++before) {
      std::string stream = "data: " + std::string(before, 'a') + character + "\n\n";
      for (int k = 0; k < 12; ++k) {
        stream += "data: " + std::to_string(k) + "\n\n"; // a long chunk after it
      }
      for (std::size_t max_size = 56; max_size < 96; ++max_size) {
        const sse_test::parse_record expected = sse_test::reference_parse(stream, max_size);
        check_agrees(n++, stream, {}, max_size, expected);
        const std::size_t held = 6 + before / 2; // a data line in an earlier chunk
        const std::string prefix = "data: " + std::string(held - 6, 'p') + "\n";
        check_agrees(n++, prefix + stream, {prefix.size()}, max_size,
                     sse_test::reference_parse(prefix + stream, max_size));
      }
    }
  }
}

// A data line and the blank line after it, which the plain lane takes together, with the blank
// line's LF at every place in a 64-byte block and at a block's end, after LF, CRLF and CR.
TEST_CASE("parser: agrees with the reference parser where a blank line follows a data line",
          "[parser][whatwg][differential]") {
  int n = 0;
  for (std::size_t pad = 0; pad < 140; ++pad) {
    std::string stream = ":" + std::string(pad, 'p') + "\n";
    stream += "data: a\n\ndata: b\r\n\ndata: c\r\n\r\ndata: d\n\r\ndata: e\r\rid: 1\ndata: f\n\n";
    stream += "data: g\ndata: h\n\nevent: t\ndata: i\n\n";
    for (int k = 0; k < 12; ++k) {
      stream += "data: " + std::to_string(k) + "\n\n"; // a long chunk after it
    }
    const sse_test::parse_record expected =
        sse_test::reference_parse(stream, sse::default_max_event_size);
    check_agrees(n++, stream, {}, sse::default_max_event_size, expected);
    for (std::size_t cut = pad + 2; cut < pad + 40; cut += 3) {
      check_agrees(n++, stream, {cut}, sse::default_max_event_size, expected);
    }
  }
}
