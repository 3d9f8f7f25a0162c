// SPDX-License-Identifier: MIT
// sse::parser: the spec cases in tests/data/parser_cases.json in every split, plus behaviour the
// table cannot express (reset, halt, limits, timing).
#include <sse/sse.hpp>

#include "support/parser_harness.hpp"
#include "support/reference_parser.hpp"
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using sse_test::parse_record;

// Records each event's data in `data`, and halts the parser at the event whose data is "stop".
void record_until_stop(sse::parser& parser, std::vector<std::string>& data) {
  parser.on_event([&parser, &data](const sse::event& e) {
    data.push_back(e.data);
    if (e.data == "stop") {
      parser.halt();
    }
  });
}

struct spec_case {
  std::string name;
  std::string stream;
  std::size_t max_size = sse::default_max_event_size;
  parse_record expected;
  // Which optional expectations the case states; the others are not compared.
  bool has_comments = false;
  bool has_retries = false;
  bool has_unknown_fields = false;
  bool has_last_event_id = false;
};

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

std::vector<spec_case> load_cases() {
  std::ifstream file(SSE_CLIENT_TEST_DATA_DIR "/parser_cases.json", std::ios::binary);
  REQUIRE(file.good());
  const nlohmann::json cases = nlohmann::json::parse(file);
  std::vector<spec_case> out;
  for (const auto& c : cases) {
    spec_case sc;
    sc.name = c.at("name").get<std::string>();
    sc.stream = c.contains("input_hex") ? from_hex(c.at("input_hex").get<std::string>())
                                        : c.at("input").get<std::string>();
    sc.max_size = c.value("max_event_size", sse::default_max_event_size);
    for (const auto& e : c.at("events")) {
      sc.expected.events.push_back({e.value("type", std::string("message")),
                                    e.at("data").get<std::string>(), e.value("id", std::string())});
    }
    if (c.contains("comments")) {
      sc.has_comments = true;
      sc.expected.comments = c.at("comments").get<std::vector<std::string>>();
    }
    if (c.contains("retries")) {
      sc.has_retries = true;
      sc.expected.retries = c.at("retries").get<std::vector<std::int64_t>>();
    }
    if (c.contains("unknown_fields")) {
      sc.has_unknown_fields = true;
      for (const auto& f : c.at("unknown_fields")) {
        sc.expected.unknown_fields.emplace_back(f.at(0).get<std::string>(),
                                                f.at(1).get<std::string>());
      }
    }
    if (c.contains("last_event_id")) {
      sc.has_last_event_id = true;
      sc.expected.last_event_id = c.at("last_event_id").get<std::string>();
    }
    sc.expected.too_large = c.value("error", std::string()) == "too_large";
    out.push_back(std::move(sc));
  }
  return out;
}

// The expectation with the parts a case does not state taken from the actual record.
parse_record expected_for(const spec_case& sc, const parse_record& actual) {
  parse_record expected = sc.expected;
  if (!sc.has_comments) {
    expected.comments = actual.comments;
  }
  if (!sc.has_retries) {
    expected.retries = actual.retries;
  }
  if (!sc.has_unknown_fields) {
    expected.unknown_fields = actual.unknown_fields;
  }
  if (!sc.has_last_event_id) {
    expected.last_event_id = actual.last_event_id;
  }
  return expected;
}

} // namespace

TEST_CASE("parser: spec cases, fed whole, byte by byte and at random splits", "[parser][whatwg]") {
  const std::vector<spec_case> cases = load_cases();
  REQUIRE(cases.size() >= 100);
  std::mt19937_64 rng(20240611);
  for (const spec_case& sc : cases) {
    INFO("case: " << sc.name << "\nstream: \"" << sse_test::escape(sc.stream) << "\"");
    const parse_record whole = sse_test::run_parser(sc.stream, {}, sc.max_size);
    INFO("got:\n" << sse_test::describe(whole));
    CHECK(whole == expected_for(sc, whole));
    // The reference parser, written from the prose alone, must agree on every case.
    CHECK(sse_test::reference_parse(sc.stream, sc.max_size) == whole);
    CHECK(sse_test::run_parser(sc.stream, sse_test::byte_cuts(sc.stream.size()), sc.max_size) ==
          whole);
    for (int i = 0; i < 100; ++i) {
      const auto cuts = sse_test::random_cuts(sc.stream.size(), rng);
      const parse_record split = sse_test::run_parser(sc.stream, cuts, sc.max_size);
      if (split != whole) {
        std::string at;
        for (const auto cut : cuts) {
          at += std::to_string(cut) + " ";
        }
        FAIL("split at " << at << "gives\n" << sse_test::describe(split));
      }
    }
  }
}

TEST_CASE("parser: every two-chunk split of a mixed stream agrees", "[parser][whatwg]") {
  const std::string stream = "\xEF\xBB\xBF: hi\r\nid: \xF0\x9F\x98\x80\rdata: a\xE2\x82\r\n"
                             "event: t\ndata\r\r\nretry: 5\n\xC3\xA9: x\n\n\xEF\xBB\xBF\n"
                             "data: \xED\xA0\x80z\r";
  const parse_record whole = sse_test::run_parser(stream, {});
  REQUIRE(whole.events.size() == 1);
  CHECK(whole == sse_test::reference_parse(stream, sse::default_max_event_size));
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      INFO("cuts " << a << " " << b);
      REQUIRE(sse_test::run_parser(stream, {a, b}) == whole);
    }
  }
}

TEST_CASE("parser: CR at chunk end dispatches before the next chunk arrives", "[parser][whatwg]") {
  sse::parser parser;
  std::vector<sse::event> events;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  REQUIRE_FALSE(parser.feed("data: x\r"));
  REQUIRE_FALSE(parser.feed("\r"));
  REQUIRE(events.size() == 1); // no byte after the CR was needed
  CHECK(events[0].data == "x");
  // The LF starting the next chunk is the second half of that CRLF, not another blank line.
  REQUIRE_FALSE(parser.feed("\ndata: y\r"));
  REQUIRE_FALSE(parser.feed("\ndata: z\r"));
  REQUIRE_FALSE(parser.feed("\n\r"));
  REQUIRE(events.size() == 2);
  CHECK(events[1].data == "y\nz");
}

TEST_CASE("parser: a CR before an empty chunk still pairs with the next LF", "[parser][whatwg]") {
  sse::parser parser;
  std::vector<std::string> data;
  parser.on_event([&](const sse::event& e) { data.push_back(e.data); });
  for (const std::string_view chunk : {"data: a\r", "", "\n", "data: b\r", "\r"}) {
    REQUIRE_FALSE(parser.feed(chunk));
  }
  CHECK(data == std::vector<std::string>{"a\nb"});
}

TEST_CASE("parser: reset discards the partial event and keeps the last event ID",
          "[parser][whatwg]") {
  sse::parser parser;
  std::vector<sse::event> events;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  REQUIRE_FALSE(parser.feed("\xEF\xBB\xBFid: 1\ndata: a\n\nid: 2\nevent: t\ndata: partial\ndat"));
  REQUIRE(events.size() == 1);
  CHECK(parser.has_partial_event());
  CHECK(parser.last_event_id() == "1");

  parser.reset();
  CHECK_FALSE(parser.has_partial_event());
  CHECK(parser.last_event_id() == "1"); // the partial event's `id: 2` does not count
  // A new stream: its BOM is skipped again, the type and data start empty, the ID carries on.
  REQUIRE_FALSE(parser.feed("\xEF\xBB\xBF"));
  REQUIRE_FALSE(parser.feed("a: b\ndata: b\n\n"));
  REQUIRE(events.size() == 2);
  CHECK(events[1] == sse::event{"message", "b", "1"});
}

TEST_CASE("parser: reset drops a cut UTF-8 sequence and a pending BOM", "[parser][whatwg]") {
  sse::parser parser;
  std::vector<sse::event> events;
  std::vector<std::string> unknown;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  parser.on_unknown_field(
      [&](std::string_view name, std::string_view) { unknown.emplace_back(name); });
  REQUIRE_FALSE(parser.feed("data: \xE2\x82"));
  parser.reset();
  REQUIRE_FALSE(parser.feed("\xAC\n\n")); // a lone continuation byte now: U+FFFD
  CHECK(events.empty());
  CHECK(unknown == std::vector<std::string>{"\xEF\xBF\xBD"});

  parser.reset();
  REQUIRE_FALSE(parser.feed("\xEF\xBB"));
  parser.reset();
  REQUIRE_FALSE(parser.feed("\xEF\xBB\xBF"
                            "data: x\n\n"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "x");
}

TEST_CASE("parser: reset clears too_large and parsing resumes", "[parser]") {
  sse::parser_options options;
  options.max_event_size = 8;
  sse::parser parser(options);
  std::vector<sse::event> events;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  CHECK(parser.feed("data: 0123456789\n\n") == sse::errc::too_large);
  CHECK(parser.error() == sse::errc::too_large);
  CHECK(parser.feed("data: a\n\n") == sse::errc::too_large); // stopped until reset
  CHECK(events.empty());
  parser.reset();
  CHECK_FALSE(parser.error());
  CHECK_FALSE(parser.feed("data: a\n\n"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "a");
}

TEST_CASE("parser: set_last_event_id presets the ID events carry", "[parser][whatwg]") {
  sse::parser parser;
  std::vector<sse::event> events;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  parser.set_last_event_id("41");
  CHECK(parser.last_event_id() == "41");
  CHECK_FALSE(parser.has_partial_event());
  REQUIRE_FALSE(parser.feed("data: a\n\nid: 42\ndata: b\n\n"));
  parser.reset();
  CHECK(parser.last_event_id() == "42");
  REQUIRE_FALSE(parser.feed("data: c\n\nid\ndata: d\n\n"));
  REQUIRE(events.size() == 4);
  CHECK(events[0].id == "41");
  CHECK(events[1].id == "42");
  CHECK(events[2].id == "42");
  CHECK(events[3].id.empty());
  CHECK(parser.last_event_id().empty());

  // The reference parser agrees when started from the same ID.
  const std::string stream = "data: a\n\nid: 7\ndata: b\n\nid:\n\n";
  CHECK(sse_test::run_parser(stream, {}, sse::default_max_event_size, "41") ==
        sse_test::reference_parse(stream, sse::default_max_event_size, "41"));
}

// The parser takes most lines 64 bytes at a time; each byte that needs care is placed at every
// offset within such a block, and the stream fed whole must give what it gives a byte at a time
// (never in blocks) and what the reference parser gives.
TEST_CASE("parser: a CR, NUL or UTF-8 byte at every place in a 64-byte block", "[parser][whatwg]") {
  const std::string_view specials[] = {"\r\n",
                                       "\r",
                                       "\n",
                                       std::string_view("\0", 1),
                                       "\xC3\xA9",
                                       "\xE2\x82\xAC",
                                       "\xF0\x9F\x98\x80",
                                       "\xFF",
                                       "\xE2\x82",
                                       "\xC3",
                                       "\xED\xA0\x80",
                                       "\r\r\n\n"};
  const std::string filler = "id: 1\ndata: " + std::string(40, 'f') + "\n\n";
  for (const std::string_view special : specials) {
    for (std::size_t pad = 0; pad < 140; ++pad) {
      for (const char* field : {"data: ", "id: "}) {
        std::string stream = filler;
        stream += field + std::string(pad, 'p');
        stream += special;
        stream += "q\ndata: after\n\n" + filler + filler + filler;
        CAPTURE(sse_test::escape(stream));
        const auto expected = sse_test::reference_parse(stream, sse::default_max_event_size);
        CHECK(sse_test::run_parser(stream, {}) == expected);
        CHECK(sse_test::run_parser(stream, sse_test::byte_cuts(stream.size())) == expected);
        CHECK(sse_test::run_parser(stream, {stream.size() / 2}) == expected);
      }
    }
  }
}

// Cut in two at every offset, a CR ends the first chunk at each place in a block, also where
// that chunk ends with a whole 64-byte block.
TEST_CASE("parser: a CRLF stream cut in two at every offset", "[parser][whatwg]") {
  std::string stream = "data: " + std::string(57, 'c') + "\r\n\r\n"; // its first CR is byte 63
  for (std::size_t k = 0; k < 60; ++k) {
    stream += "data: " + std::string(k, 'c') + "\r\n" + (k % 3 == 0 ? "\r\n" : "");
  }
  stream += "\r\n";
  const auto expected = sse_test::reference_parse(stream, sse::default_max_event_size);
  REQUIRE(expected.events.size() == 22);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    CHECK(sse_test::run_parser(stream, {cut}) == expected);
  }
}

TEST_CASE("parser: a line longer than the limit in the middle of a long chunk",
          "[parser][limits]") {
  for (std::size_t over = 0; over < 3; ++over) {
    sse::parser_options options;
    options.max_event_size = 100;
    sse::parser parser(options);
    std::vector<std::string> data;
    parser.on_event([&](const sse::event& e) { data.push_back(e.data); });
    // 6 + 94 = 100 bytes is the longest line allowed.
    const std::string stream = "data: a\n\ndata: " + std::string(93 + over, 'x') +
                               "\n\ndata: b\n\n" + std::string(100, ':') + "\n" +
                               std::string(100, ':') + "\n";
    const std::error_code ec = parser.feed(stream);
    CAPTURE(over);
    if (over <= 1) {
      CHECK_FALSE(ec);
      CHECK(data.size() == 3);
    } else {
      CHECK(ec == sse::errc::too_large);
      CHECK(data == std::vector<std::string>{"a"});
    }
  }
}

TEST_CASE("parser: halt from a sink in a long chunk drops the rest of it", "[parser]") {
  sse::parser parser;
  std::vector<std::string> data;
  record_until_stop(parser, data);
  std::string chunk;
  for (int i = 0; i < 20; ++i) {
    chunk += "data: " + std::to_string(i) + "\n\n";
  }
  chunk += "data: stop\n\n";
  for (int i = 0; i < 20; ++i) {
    chunk += "data: dropped\n\n";
  }
  CHECK_FALSE(parser.feed(chunk));
  REQUIRE(data.size() == 21);
  CHECK(data.back() == "stop");
  CHECK_FALSE(parser.feed("data: next\n\n"));
  CHECK(data.back() == "next");
}

TEST_CASE("parser: halt from a sink drops the rest of the chunk", "[parser]") {
  sse::parser parser;
  std::vector<std::string> data;
  std::vector<std::string> comments;
  record_until_stop(parser, data);
  parser.on_comment([&](std::string_view text) { comments.emplace_back(text); });
  CHECK_FALSE(parser.feed("data: a\n\ndata: stop\n\ndata: dropped\n\n: dropped\n"));
  CHECK(data == std::vector<std::string>{"a", "stop"});
  CHECK(comments.empty());
  CHECK_FALSE(parser.error()); // halting is not a failure
  // The next chunk is parsed again.
  CHECK_FALSE(parser.feed("data: next\n\n"));
  CHECK(data == std::vector<std::string>{"a", "stop", "next"});
}

TEST_CASE("parser: halt from the comment sink", "[parser]") {
  sse::parser parser;
  int events = 0;
  parser.on_event([&](const sse::event&) { ++events; });
  parser.on_comment([&](std::string_view) { parser.halt(); });
  CHECK_FALSE(parser.feed(": bye\ndata: a\n\n"));
  CHECK(events == 0);
}

TEST_CASE("parser: too_large for a line in one chunk", "[parser][limits]") {
  sse::parser_options options;
  options.max_event_size = 1024;
  sse::parser parser(options);
  int events = 0;
  parser.on_event([&](const sse::event&) { ++events; });
  CHECK_FALSE(parser.feed("data: " + std::string(1018, 'x') + "\n\n")); // exactly 1024
  CHECK(events == 1);
  CHECK(parser.feed("data: " + std::string(1019, 'x') + "\n\n") == sse::errc::too_large);
  CHECK(events == 1);
}

TEST_CASE("parser: too_large for a line across chunks", "[parser][limits]") {
  sse::parser_options options;
  options.max_event_size = 1024;
  sse::parser parser(options);
  int events = 0;
  parser.on_event([&](const sse::event&) { ++events; });
  REQUIRE_FALSE(parser.feed("data: "));
  std::error_code ec;
  std::size_t fed = 6;
  for (int i = 0; i < 100 && !ec; ++i) {
    ec = parser.feed(std::string(100, 'x'));
    fed += 100;
  }
  CHECK(ec == sse::errc::too_large);
  CHECK(fed <= 1024 + 100); // it failed in the chunk that crossed the limit
  CHECK(parser.feed("\n\n") == sse::errc::too_large);
  CHECK(events == 0);
}

TEST_CASE("parser: too_large for a data buffer built from many lines", "[parser][limits]") {
  sse::parser_options options;
  options.max_event_size = 64 * 1024;
  sse::parser parser(options);
  int events = 0;
  parser.on_event([&](const sse::event&) { ++events; });
  const std::string line = "data: " + std::string(1000, 'y') + "\n"; // 1001 bytes of data each
  std::error_code ec;
  int lines = 0;
  for (; lines < 1000 && !ec; ++lines) {
    ec = parser.feed(line);
  }
  CHECK(ec == sse::errc::too_large);
  CHECK(lines == 66); // 65 lines fit in 65536 bytes, the 66th does not
  CHECK(events == 0);
}

TEST_CASE("parser: a data buffer reaches the limit exactly, in a long chunk or after another",
          "[parser][limits]") {
  // Each line adds 10 bytes to the WHATWG data buffer (9 and an LF); the limit is 1000. The
  // lines lie whole in long chunks, where the parser checks sizes only near the limit.
  const std::string line = "data: 123456789\n";
  for (const bool begun : {false, true}) {
    for (std::size_t over = 0; over < 2; ++over) {
      sse::parser_options options;
      options.max_event_size = 1000;
      sse::parser parser(options);
      std::vector<std::string> data;
      parser.on_event([&](const sse::event& e) { data.push_back(e.data); });
      std::string stream;
      std::size_t lines = 100 + over;
      if (begun) {
        // 500 bytes of the buffer come from an earlier chunk.
        REQUIRE_FALSE(parser.feed("data: " + std::string(499, 'x') + "\n"));
        lines -= 50;
      }
      for (std::size_t i = 0; i < lines; ++i) {
        stream += line;
      }
      stream += "\n" + std::string(200, ':') + "\n";
      CAPTURE(begun, over);
      const std::error_code ec = parser.feed(stream);
      if (over == 0) {
        CHECK_FALSE(ec);
        REQUIRE(data.size() == 1);
        CHECK(data[0].size() == 999);
      } else {
        CHECK(ec == sse::errc::too_large);
        CHECK(data.empty());
      }
    }
  }
}

TEST_CASE("parser: too_large for an endless comment line", "[parser][limits]") {
  sse::parser_options options;
  options.max_event_size = 64 * 1024;
  sse::parser parser(options);
  int comments = 0;
  parser.on_comment([&](std::string_view) { ++comments; });
  REQUIRE_FALSE(parser.feed(":"));
  const std::string chunk(1024, 'z');
  std::error_code ec;
  std::size_t fed = 1;
  for (int i = 0; i < 1000 && !ec; ++i) {
    ec = parser.feed(chunk);
    fed += chunk.size();
  }
  CHECK(ec == sse::errc::too_large);
  CHECK(fed <= options.max_event_size + chunk.size());
  CHECK(comments == 0);
}

TEST_CASE("parser: the default limit is 32 MiB", "[parser][limits]") {
  CHECK(sse::parser().options().max_event_size == std::size_t{32} * 1024 * 1024);
}

namespace {

// Seconds to feed `stream` one byte at a time (best of `runs`, to shed scheduling noise).
double byte_by_byte_seconds(const std::string& stream, int runs, std::size_t& data_size) {
  double best = 1e9;
  for (int r = 0; r < runs; ++r) {
    sse::parser parser;
    data_size = 0;
    parser.on_event([&](const sse::event& e) { data_size += e.data.size(); });
    const auto start = std::chrono::steady_clock::now();
    for (const char c : stream) {
      parser.feed(std::string_view(&c, 1));
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

std::string one_line_event(std::size_t size) {
  return "data: " + std::string(size, 'a') + "\n\n";
}

std::string many_line_event(std::size_t size) {
  std::string stream;
  const std::string line = "data: " + std::string(1023, 'b') + "\n";
  for (std::size_t i = 0; i < size / 1024; ++i) {
    stream += line;
  }
  return stream + "\n";
}

} // namespace

TEST_CASE("parser: time is linear in event size, fed a byte at a time", "[parser][limits]") {
  // Ten times the size takes about ten times as long; a quadratic parser takes a hundred times.
  // Only the ratio is checked: under sanitizers on a busy machine the absolute time says nothing.
  constexpr std::size_t small_size = 256 * 1024;
  constexpr std::size_t large_size = 10 * small_size;
  for (const auto make : {one_line_event, many_line_event}) {
    const std::string small = make(small_size);
    const std::string large = make(large_size);
    std::size_t small_data = 0;
    std::size_t large_data = 0;
    const double t_small = byte_by_byte_seconds(small, 3, small_data);
    const double t_large = byte_by_byte_seconds(large, 2, large_data);
    CHECK(small_data >= small_size - 1024);
    CHECK(large_data >= large_size - 1024);
    INFO("256 KiB: " << t_small << " s, 2.5 MiB: " << t_large << " s");
    CHECK(t_large < 30 * t_small);
  }
}

TEST_CASE("parser: an event larger than the retained capacity is followed by small ones",
          "[parser]") {
  // The parser keeps two event buffers; one that grew past the retained capacity is released.
  sse::parser parser;
  std::vector<sse::event> events;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  const std::string big(sse::detail::retained_data_capacity * 2, 'b');
  for (int round = 0; round < 3; ++round) {
    REQUIRE_FALSE(parser.feed("id: " + std::to_string(round) + "\ndata: " + big + "\n\n"));
    REQUIRE_FALSE(parser.feed("data: small\n\n"));
  }
  REQUIRE(events.size() == 6);
  for (std::size_t k = 0; k < events.size(); k += 2) {
    CHECK(events[k].data == big);
    CHECK(events[k].id == std::to_string(k / 2));
    CHECK(events[k + 1] == sse::event{"message", "small", std::to_string(k / 2)});
  }
}

TEST_CASE("parser: reused buffers give each event exactly its own data and id", "[parser]") {
  // Short values are written over the bytes of an earlier event; the lengths here go up and
  // down, across the inline copy's limit and past it, one line and many.
  std::mt19937_64 rng(5);
  const std::size_t lengths[] = {0, 1, 3, 8, 15, 16, 31, 33, 63, 64, 65, 200, 1000};
  std::string stream;
  std::vector<sse::event> expected;
  for (int k = 0; k < 400; ++k) {
    sse::event e;
    e.id = std::string(lengths[rng() % 5], static_cast<char>('0' + k % 10));
    stream += "id: " + e.id + "\n";
    const std::size_t lines = 1 + rng() % 3;
    for (std::size_t l = 0; l < lines; ++l) {
      const std::string line(lengths[rng() % std::size(lengths)], static_cast<char>('a' + k % 26));
      stream += "data: " + line + "\n";
      e.data += (l == 0 ? "" : "\n") + line;
    }
    stream += "\n";
    expected.push_back(e);
  }
  for (const std::size_t chunk : {std::size_t{7}, std::size_t{4096}, stream.size()}) {
    sse::parser parser;
    std::vector<sse::event> events;
    parser.on_event([&](const sse::event& e) {
      CHECK(std::char_traits<char>::length(e.data.c_str()) == e.data.size()); // terminated
      events.push_back(e);
    });
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      REQUIRE_FALSE(parser.feed(std::string_view(stream).substr(at, chunk)));
    }
    CAPTURE(chunk);
    CHECK(events == expected);
  }
}

TEST_CASE("parser: a copy or a move goes on from where the original was", "[parser]") {
  // Cut inside the third event and inside the fourth, so that either of the two events that
  // take turns is the committed one; the copies must then build and dispatch in their own.
  const std::string stream = "id: 1\ndata: one\n\nid: 2\nevent: two\ndata: two\n\n"
                             "data: three\n\nid: 4\ndata: four\n\ndata: five\n\n";
  const auto whole = sse_test::run_parser(stream, {});
  REQUIRE(whole.events.size() == 5);
  for (const std::size_t cut : {stream.find("three") + 2, stream.find("four") + 1}) {
    CAPTURE(cut);
    const std::string_view head = std::string_view(stream).substr(0, cut);
    const std::string_view tail = std::string_view(stream).substr(cut);
    std::vector<sse::event> before;
    sse::parser original;
    original.on_event([&](const sse::event& e) { before.push_back(e); });
    REQUIRE_FALSE(original.feed(head));
    const std::size_t seen = before.size();

    const auto finish = [&](sse::parser& p) {
      std::vector<sse::event> after;
      p.on_event([&](const sse::event& e) { after.push_back(e); });
      REQUIRE_FALSE(p.feed(tail));
      std::vector<sse::event> all(before.begin(), before.begin() + static_cast<long>(seen));
      all.insert(all.end(), after.begin(), after.end());
      REQUIRE(all.size() == whole.events.size());
      for (std::size_t k = 0; k < all.size(); ++k) {
        CHECK(all[k].type == whole.events[k].type);
        CHECK(all[k].data == whole.events[k].data);
        CHECK(all[k].id == whole.events[k].id);
      }
      CHECK(p.last_event_id() == "4");
    };
    sse::parser copied(original);
    sse::parser assigned;
    assigned = original;
    sse::parser moved_from(original);
    sse::parser moved(std::move(moved_from));
    sse::parser move_assigned;
    sse::parser move_source(original);
    move_assigned = std::move(move_source);
    finish(copied);
    finish(assigned);
    finish(moved);
    finish(move_assigned);
    finish(original); // unaffected by the copies fed before it
  }
}

// The plain lane takes a data line and the blank line after it together: a halt there, with the
// event at every place in a 64-byte block, still drops the rest of the chunk and only that.
TEST_CASE("parser: halt from a sink at a data line's blank line, at every place in a block",
          "[parser]") {
  for (std::size_t pad = 0; pad < 140; ++pad) {
    sse::parser parser;
    std::vector<std::string> data;
    record_until_stop(parser, data);
    std::string chunk = ":" + std::string(pad, 'p') + "\ndata: a\n\ndata: stop\n\n";
    for (int i = 0; i < 20; ++i) {
      chunk += "data: dropped\n\n";
    }
    CHECK_FALSE(parser.feed(chunk));
    CHECK(data == std::vector<std::string>{"a", "stop"});
    CHECK_FALSE(parser.has_partial_event());
    CHECK_FALSE(parser.feed("data: next\n\n"));
    CHECK(data.back() == "next");
  }
}
