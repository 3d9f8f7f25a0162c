// SPDX-License-Identifier: MIT
// The public SSE contract suite's parsing checks, as our own tests over a real connection:
// line endings in every chunking, BOMs, huge events. (Its HTTP checks are in client_test.)
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;

namespace {

// Sends `chunks` one write at a time, then keeps the connection open: every event must be
// dispatched without waiting for more bytes or for the end of the body.
std::vector<std::string> events_from(const std::vector<std::string>& chunks, std::size_t expected) {
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    for (const auto& chunk : chunks) {
      if (!c.send(chunk) || !c.sleep_for(1ms)) {
        return;
      }
    }
    c.wait_closed_by_peer(10s);
  });
  recorder<std::string> data;
  sse::client client(fast_options(server.url("/")));
  client.on_message([&](const sse::event& e) { data.push(e.data); });
  client.start();
  data.wait_for_size(expected, 5s);
  client.close();
  return data.snapshot();
}

std::vector<std::string> split_every(const std::string& s, std::size_t n) {
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < s.size(); i += n) {
    chunks.push_back(s.substr(i, n));
  }
  return chunks;
}

} // namespace

TEST_CASE("contract: line endings LF, CRLF and CR, whole and in 1- and 2-byte chunks",
          "[contract][integration]") {
  struct shape {
    const char* name;
    std::vector<std::string> lines; // joined by the terminator; "" is a blank line
    std::vector<std::string> expected;
  };
  const std::vector<shape> shapes{
      {"one-line event", {"data: event 1", "", ""}, {"event 1"}},
      {"one-line event + two-line event",
       {"data: event 1", "", "data: event 2 line 1", "data: event 2 line 2", "", ""},
       {"event 1", "event 2 line 1\nevent 2 line 2"}},
      {"3-line event with empty line at beginning",
       {"data:", "data: line2", "data: line3", "", ""},
       {"\nline2\nline3"}},
      {"3-line event with empty line in middle",
       {"data: line1", "data:", "data: line3", "", ""},
       {"line1\n\nline3"}},
      {"ignores 1 extra empty line",
       {"data: event 1", "", "", "data: event 2", "", ""},
       {"event 1", "event 2"}},
      {"ignores 2 extra empty lines",
       {"data: event 1", "", "", "", "data: event 2", "", ""},
       {"event 1", "event 2"}},
  };
  int cases = 0;
  for (const std::string terminator : {"\n", "\r\n", "\r"}) {
    for (const auto& s : shapes) {
      std::string stream;
      for (std::size_t i = 0; i + 1 < s.lines.size(); ++i) {
        stream += s.lines[i] + terminator;
      }
      for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{2}}) {
        CAPTURE(s.name, terminator, chunk);
        const auto chunks =
            chunk == 0 ? std::vector<std::string>{stream} : split_every(stream, chunk);
        CHECK(events_from(chunks, s.expected.size()) == s.expected);
        ++cases;
      }
    }
  }
  CHECK(cases == 54);
}

TEST_CASE("contract: CRLF where CR is the end of one chunk", "[contract][integration]") {
  const std::vector<std::string> chunks{
      "data: Hello\r", "\ndata: World\r", "\n\r\ndata: OK\r", "\n", "\r", "\n"};
  CHECK(events_from(chunks, 2) == std::vector<std::string>{"Hello\nWorld", "OK"});
}

TEST_CASE("contract: an event ended by a lone CR is dispatched at once",
          "[contract][integration]") {
  // "\r\r" at the end of what has arrived: the second CR might be half of a CRLF, but the event
  // must not wait for the next byte (the server sends nothing more).
  CHECK(events_from({"data: now\r\r"}, 1) == std::vector<std::string>{"now"});
}

TEST_CASE("contract: a BOM is skipped once, also split across chunks", "[contract][integration]") {
  const std::string bom = "\xEF\xBB\xBF";
  CHECK(events_from({bom + "data: a\n\n"}, 1) == std::vector<std::string>{"a"});
  CHECK(events_from({"\xEF", "\xBB",
                     "\xBF"
                     "data: b\n\n"},
                    1) == std::vector<std::string>{"b"});
  CHECK(events_from({"\xEF\xBB", "\xBF"
                                 "data: c\n\n"},
                    1) == std::vector<std::string>{"c"});
  // A second BOM is text: the line's field name is then not "data", so nothing is dispatched
  // for it, and the next event still comes through.
  CHECK(events_from({bom + bom + "data: d\n\ndata: e\n\n"}, 1) == std::vector<std::string>{"e"});
}

TEST_CASE("contract: 7 MB and 14 MB events arrive whole", "[contract][integration]") {
  for (const std::size_t size : {std::size_t{7} << 20, std::size_t{14} << 20}) {
    const std::string payload(size, 'x');
    test_server server([&](connection& c) {
      c.send_head(200, stream_headers);
      c.send("data: " + payload + "\n\n");
      c.wait_closed_by_peer(30s);
    });
    std::atomic<std::size_t> received{0};
    recorder<sse::error> errors;
    sse::client client(fast_options(server.url("/")));
    client.on_message([&](const sse::event& e) {
      received = e.data == payload ? e.data.size() : std::size_t{1};
    });
    client.on_error([&](const sse::error& e) { errors.push(e); });
    client.start();
    CHECK(sse_test::wait_until([&] { return received.load() != 0; }, 20s));
    CHECK(received.load() == size);
    CHECK(errors.size() == 0);
  }
}
