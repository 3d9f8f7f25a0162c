// SPDX-License-Identifier: MIT
// Compressed responses beyond gzip (reliability_test, faults_test): brotli and zstd bodies, brotli
// and zstd bombs (support/bomb_check.hpp), and corrupt brotli. Bodies are compressed here, at test
// time, with a flush after each event so that every event is decodable as soon as its bytes arrive.
#include <sse/sse.hpp>

#include "support/bomb_check.hpp"
#include "support/client_support.hpp"
#include <brotli/encode.h>
#include <catch2/catch.hpp>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using sse_test::check_bomb;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::one_line_bomb;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

// Streams brotli output: feed text, take compressed bytes, without holding the whole input.
// Built and used on the test's thread only (it asserts).
class brotli_writer {
public:
  brotli_writer() : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    REQUIRE(state_ != nullptr);
    // Quality 5 squeezes 100 MiB of one byte to a few hundred bytes in well under a second.
    REQUIRE(BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, 5));
  }
  ~brotli_writer() { BrotliEncoderDestroyInstance(state_); }
  brotli_writer(const brotli_writer&) = delete;
  brotli_writer& operator=(const brotli_writer&) = delete;

  // BROTLI_OPERATION_FLUSH makes everything so far decodable by itself; _FINISH ends the stream.
  std::string add(std::string_view text, BrotliEncoderOperation op = BROTLI_OPERATION_PROCESS) {
    std::string out;
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(text.data());
    std::size_t avail_in = text.size();
    // Ends: each pass consumes input or takes output until the operation is complete.
    for (;;) {
      std::uint8_t buffer[16384];
      std::uint8_t* next_out = buffer;
      std::size_t avail_out = sizeof buffer;
      if (!BrotliEncoderCompressStream(state_, op, &avail_in, &next_in, &avail_out, &next_out,
                                       nullptr)) {
        FAIL("BrotliEncoderCompressStream failed");
      }
      out.append(reinterpret_cast<const char*>(buffer), sizeof buffer - avail_out);
      if (avail_in == 0 && !BrotliEncoderHasMoreOutput(state_) &&
          (op != BROTLI_OPERATION_FINISH || BrotliEncoderIsFinished(state_))) {
        return out;
      }
    }
  }

private:
  BrotliEncoderState* state_;
};

// Streams zstd output like brotli_writer: one frame, flushed or ended on request.
class zstd_writer {
public:
  zstd_writer() : context_(ZSTD_createCCtx()) { REQUIRE(context_ != nullptr); }
  ~zstd_writer() { ZSTD_freeCCtx(context_); }
  zstd_writer(const zstd_writer&) = delete;
  zstd_writer& operator=(const zstd_writer&) = delete;

  // ZSTD_e_flush makes everything so far decodable by itself; ZSTD_e_end ends the frame.
  std::string add(std::string_view text, ZSTD_EndDirective mode = ZSTD_e_continue) {
    std::string out;
    ZSTD_inBuffer in{text.data(), text.size(), 0};
    // Ends: each pass consumes input or takes output; flush and end report 0 bytes left at last.
    for (;;) {
      char buffer[16384];
      ZSTD_outBuffer chunk{buffer, sizeof buffer, 0};
      const std::size_t left = ZSTD_compressStream2(context_, &chunk, &in, mode);
      if (ZSTD_isError(left)) {
        FAIL("ZSTD_compressStream2: " << ZSTD_getErrorName(left));
      }
      out.append(buffer, chunk.pos);
      if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0) {
        return out;
      }
    }
  }

private:
  ZSTD_CCtx* context_;
};

// Whether an Accept-Encoding value lists `coding` as one of its comma-separated codings.
bool lists_coding(std::string_view accept_encoding, std::string_view coding) {
  // Ends: each pass drops one list member.
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    auto member = accept_encoding.substr(0, comma);
    member = member.substr(0, member.find(';')); // a q-value is not part of the name
    if (sse_test::detail::iequals(sse_test::detail::trim_ows(member), coding)) {
      return true;
    }
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size()
                                                                  : comma + 1);
  }
  return false;
}

// One event as the server writes it and as the client must deliver it.
struct sample {
  std::string wire;
  sse::event expected;
};

// Ids, a type, a comment, multi-line data and non-ASCII UTF-8 (2-, 3- and 4-byte sequences).
std::vector<sample> samples() {
  return {
      {"id: 1\ndata: plain\n\n", {"message", "plain", "1"}},
      // "Grüße, 世界" then U+1F30D EARTH GLOBE EUROPE-AFRICA on a second data line.
      {"event: greeting\nid: 2\ndata: Gr\xC3\xBC\xC3\x9F"
       "e, \xE4\xB8\x96\xE7\x95\x8C\ndata: \xF0\x9F\x8C\x8D\n\n",
       {"greeting",
        "Gr\xC3\xBC\xC3\x9F"
        "e, \xE4\xB8\x96\xE7\x95\x8C\n\xF0\x9F\x8C\x8D",
        "2"}},
      // "ñandú": no id, so the last one persists.
      {": a comment\ndata: \xC3\xB1"
       "and\xC3\xBA\n\n",
       {"message",
        "\xC3\xB1"
        "and\xC3\xBA",
        "2"}},
      {"id: 4\ndata: end\n\n", {"message", "end", "4"}},
  };
}

// Serves `blocks` (block i holds event i, compressed with `coding`) when the request lists
// `coding` in Accept-Encoding, and checks the client delivers exactly `expected`. Each block goes
// out only once the client has delivered the events before it: a decoder that held output back
// until the stream ends would stall the stream, and the case fails.
void check_decoded(const std::string& coding, const std::vector<std::string>& blocks,
                   const std::vector<sse::event>& expected) {
  REQUIRE(blocks.size() == expected.size());
  collected c; // before the server, whose handler waits on it
  test_server server([&](connection& conn) {
    if (!lists_coding(conn.req().header("Accept-Encoding").value_or(""), coding)) {
      conn.send_head(200, stream_headers);
      conn.send("data: not asked\n\n");
      conn.wait_closed_by_peer(10s);
      return;
    }
    conn.send_head(200, {{"Content-Type", "text/event-stream"}, {"Content-Encoding", coding}});
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (!conn.send(blocks[i]) || !c.events.wait_for_size(i + 1, 5s)) {
        return;
      }
    }
    conn.wait_closed_by_peer(10s);
  });
  auto options = fast_options(server.url("/"));
  options.compression = true;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(expected.size(), 5s));
  const auto events = c.events.snapshot();
  REQUIRE(events.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(events[i].type == expected[i].type);
    CHECK(events[i].data == expected[i].data);
    CHECK(events[i].id == expected[i].id);
  }
  CHECK(c.errors.size() == 0);
  // Published once the chunk's listeners have returned: it may lag the last event briefly.
  CHECK(wait_until([&] { return client.last_event_id() == expected.back().id; }, 5s));
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CAPTURE(requests[0].header("Accept-Encoding").value_or("(none)"));
  CHECK(lists_coding(requests[0].header("Accept-Encoding").value_or(""), coding));
  client.close();
  CHECK(server.handler_errors().empty());
}

// A server that answers the first request with `first` and every later one by holding `later`.
test_server::handler first_then(std::function<void(connection&)> first, std::string later) {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [count, first = std::move(first), later = std::move(later)](connection& c) {
    if (count->fetch_add(1) == 0) {
      first(c);
      return;
    }
    c.send_head(200, stream_headers);
    c.send(later);
    c.wait_closed_by_peer(10s);
  };
}

} // namespace

TEST_CASE("compression: brotli body is decoded when compression is on",
          "[compression][integration]") {
  const auto events = samples();
  brotli_writer br;
  std::vector<std::string> blocks;
  std::vector<sse::event> expected;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const bool last = i + 1 == events.size();
    blocks.push_back(
        br.add(events[i].wire, last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_FLUSH));
    expected.push_back(events[i].expected);
  }
  check_decoded("br", blocks, expected);
}

TEST_CASE("compression: zstd body is decoded when compression is on",
          "[compression][integration]") {
  const auto events = samples();
  zstd_writer zs;
  std::vector<std::string> blocks;
  std::vector<sse::event> expected;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const bool last = i + 1 == events.size();
    blocks.push_back(zs.add(events[i].wire, last ? ZSTD_e_end : ZSTD_e_flush));
    expected.push_back(events[i].expected);
  }
  check_decoded("zstd", blocks, expected);
}

TEST_CASE("compression: a brotli bomb stops at max_event_size with bounded memory",
          "[compression][integration]") {
  brotli_writer br;
  check_bomb("br", one_line_bomb(br, BROTLI_OPERATION_FINISH));
}

TEST_CASE("compression: a zstd bomb stops at max_event_size with bounded memory",
          "[compression][integration]") {
  zstd_writer zs;
  check_bomb("zstd", one_line_bomb(zs, ZSTD_e_end));
}

TEST_CASE("compression: corrupt brotli ends the attempt after the events decoded so far",
          "[compression][integration]") {
  // Two whole events and the start of a third (whose id must not be resumed from), flushed so
  // they decode before the garbage. 0xFF reads as "last, empty meta-block" with non-zero padding
  // bits: a format error for any brotli decoder.
  std::string valid;
  {
    brotli_writer br;
    valid += br.add("id: 1\ndata: first\n\nid: 2\ndata: second\n\n", BROTLI_OPERATION_FLUSH);
    valid += br.add("id: 3\ndata: cut", BROTLI_OPERATION_FLUSH);
  }
  collected c; // before the server, whose handler waits on it
  test_server server(first_then(
      [&](connection& conn) {
        conn.send_head(200, {{"Content-Type", "text/event-stream"}, {"Content-Encoding", "br"}});
        conn.send(valid);
        // The garbage only once those events are out: libbrotlidec hands decoded bytes over when
        // it runs out of input, so an error later in the same read discards them.
        if (!c.events.wait_for_size(2, 5s)) {
          return;
        }
        conn.send(std::string(64, '\xFF'));
        conn.wait_closed_by_peer(10s);
      },
      "data: plain\n\n"));
  auto options = fast_options(server.url("/"));
  options.compression = true;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(3, 5s));
  const auto events = c.events.snapshot();
  CHECK(events[0] == sse::event{"message", "first", "1"});
  CHECK(events[1] == sse::event{"message", "second", "2"});
  CHECK(events[2] == sse::event{"message", "plain", "2"});
  const auto error = c.errors.snapshot().at(0);
  CAPTURE(error.message);
  CHECK(error.code == sse::errc::network);
  CHECK(error.will_retry);
  CHECK(server.requests().at(1).header("Last-Event-ID") == std::optional<std::string>("2"));
  client.close();
}
