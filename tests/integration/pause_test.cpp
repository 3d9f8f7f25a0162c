// SPDX-License-Identifier: MIT
// client::pause() and resume() against a fast server on 127.0.0.1: the transfer is held, the
// server's writes block, and resuming delivers every event once, in order.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/fast_server.hpp"
#include <catch2/catch.hpp>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::fast_server;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

constexpr std::size_t event_count = fast_server::event_count;

// What the server can write while the client holds the transfer: the kernel's socket buffers on
// both sides (loopback, Linux defaults autotune to a few MiB) and libcurl's one held chunk.
// Measured: 3.8 to 3.9 MiB on Debian 12 (tcp_rmem max 32 MiB, tcp_wmem max 4 MiB).
constexpr std::uint64_t held_bound = 8u << 20;

// True once `value()` has not changed for `quiet`; false when `timeout` passes first.
template <typename Value>
bool wait_until_steady(Value value, std::chrono::milliseconds quiet,
                       std::chrono::milliseconds timeout) {
  auto last = value();
  auto since = std::chrono::steady_clock::now();
  return wait_until(
      [&] {
        const auto now_value = value();
        const auto now = std::chrono::steady_clock::now();
        if (now_value != last) {
          last = now_value;
          since = now;
        }
        return now - since >= quiet;
      },
      timeout);
}

// `text` as one gzip member.
std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Every id from 0 to event_count - 1, once, in order.
bool all_once_in_order(const std::vector<std::uint64_t>& ids) {
  if (ids.size() != event_count) {
    return false;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != i) {
      return false;
    }
  }
  return true;
}

} // namespace

TEST_CASE("pause: a paused stream blocks the server's writes and resumes without loss",
          "[client][pause][integration][issue-23]") {
  fast_server server;
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  options.idle_timeout = 200ms; // far shorter than the pause: it must not fire
  const bool from_listener = GENERATE(true, false);
  CAPTURE(from_listener);

  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::uint64_t> ids; // loop thread until the stream ends, then the test's
  ids.reserve(event_count);
  recorder<sse::error> errors;
  recorder<sse::close_reason> closes;
  sse::client client(options);
  constexpr std::uint64_t pause_at = 100;
  client.on_message([&](const sse::event& e) {
    ids.push_back(std::stoull(e.id));
    if (delivered.fetch_add(1) + 1 == pause_at && from_listener) {
      client.pause();
    }
  });
  client.on_error([&](const sse::error& e) { errors.push(e); });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  if (!from_listener) {
    client.pause(); // before start: holds for the first attempt
    CHECK(client.stats().paused);
  }
  client.start();

  // The server fills the socket buffers, then its writes block.
  REQUIRE(wait_until([&] { return server.written() > 0; }, 10s));
  REQUIRE(wait_until_steady([&] { return server.written(); }, 300ms, 20s));
  const std::uint64_t held = server.written();
  const std::uint64_t delivered_when_held = delivered.load();
  CHECK(client.stats().paused);
  CHECK(client.ready_state() == sse::ready_state::open);
  // At most the chunk that was being parsed when pause() came (256 KiB: about 250 events).
  if (from_listener) {
    CHECK(delivered_when_held >= pause_at);
    CHECK(delivered_when_held <= pause_at + 256);
  } else {
    CHECK(delivered_when_held == 0);
  }
  CAPTURE(held);
  CHECK(held < held_bound);

  // Several idle timeouts later: still held, no event, no error.
  CHECK_FALSE(errors.wait_for_size(1, 700ms));
  CHECK(delivered.load() == delivered_when_held);
  CHECK(server.written() == held);
  CHECK(client.stats().failures == 0);

  client.resume();
  REQUIRE(closes.wait_for_size(1, 60s));
  CHECK(closes.snapshot().front() == sse::close_reason::server_ended);
  CHECK(all_once_in_order(ids));
  CHECK(errors.size() == 0);
  CHECK_FALSE(client.stats().paused);
}

TEST_CASE("pause: pausing and resuming from another thread over and over loses nothing",
          "[client][pause][integration][issue-23]") {
  fast_server server;
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::uint64_t> ids;
  ids.reserve(event_count);
  recorder<sse::close_reason> closes;
  sse::client client(options);
  client.on_message([&](const sse::event& e) {
    ids.push_back(std::stoull(e.id));
    delivered.fetch_add(1);
  });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  client.start();
  // Bounded: each pass waits for progress (or the end) with a deadline.
  for (int round = 0; round < 200 && closes.size() == 0; ++round) {
    client.pause();
    client.resume();
    client.pause();
    const auto before = delivered.load();
    client.resume();
    REQUIRE(wait_until([&] { return delivered.load() > before || closes.size() > 0; }, 10s));
  }
  REQUIRE(closes.wait_for_size(1, 60s));
  CHECK(closes.snapshot().front() == sse::close_reason::server_ended);
  CHECK(all_once_in_order(ids));
}

TEST_CASE("pause: resume without a pause and pause after the end do nothing",
          "[client][pause][integration][issue-23]") {
  test_server server(sse_test::sse_once("data: a\n\ndata: b\n\n"));
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  recorder<sse::event> events;
  recorder<sse::close_reason> closes;
  sse::client client(options);
  client.on_message([&](const sse::event& e) { events.push(e); });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  client.resume();
  CHECK_FALSE(client.stats().paused);
  client.start();
  REQUIRE(closes.wait_for_size(1, 10s));
  CHECK(events.size() == 2);
  client.pause();
  client.resume();
  CHECK(client.close_reason() == sse::close_reason::server_ended);
}

TEST_CASE("pause: close() while paused ends the stream at once",
          "[client][pause][integration][issue-23]") {
  fast_server server;
  auto options = fast_options(server.url());
  std::atomic<std::uint64_t> delivered{0};
  recorder<sse::close_reason> closes;
  sse::client client(options);
  client.on_message([&](const sse::event&) {
    if (delivered.fetch_add(1) == 0) {
      client.pause();
    }
  });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  client.start();
  REQUIRE(wait_until([&] { return delivered.load() > 0; }, 10s));
  REQUIRE(wait_until_steady([&] { return server.written(); }, 300ms, 20s));
  const auto delivered_when_held = delivered.load();
  client.close();
  REQUIRE(closes.wait_for_size(1, 2s));
  CHECK(closes.snapshot().front() == sse::close_reason::closed);
  CHECK(delivered.load() == delivered_when_held);
}

TEST_CASE("pause: a body that ends while the transfer is held is delivered on resume",
          "[client][pause][integration][issue-23]") {
  const std::string body = "id: 1\ndata: a\n\nid: 2\ndata: b\n\n";
  std::string framing;
  SECTION("chunked") {
    framing = "chunked";
  }
  SECTION("Content-Length") {
    framing = "length";
  }
  SECTION("ended by closing the connection") {
    framing = "close";
  }
  // The whole body, and its end, reach the client in one read while it holds the transfer.
  test_server server([&](connection& c) {
    if (framing == "chunked") {
      c.send_head(200, stream_headers, true);
      c.send_chunk(body);
      c.send_chunk("");
    } else if (framing == "length") {
      c.send_head(200, {{"Content-Type", "text/event-stream"},
                        {"Content-Length", std::to_string(body.size())}});
      c.send(body);
    } else {
      c.send_head(200, stream_headers);
      c.send(body);
    }
    c.close();
  });
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  recorder<sse::event> events;
  recorder<sse::close_reason> closes;
  sse::client client(options);
  client.on_message([&](const sse::event& e) { events.push(e); });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  client.pause();
  client.start();
  REQUIRE(wait_until([&] { return client.ready_state() == sse::ready_state::open; }, 10s));
  // Held: neither the events nor the end come.
  CHECK_FALSE(closes.wait_for_size(1, 300ms));
  CHECK(events.size() == 0);
  client.resume();
  REQUIRE(closes.wait_for_size(1, 10s));
  CHECK(closes.snapshot().front() == sse::close_reason::server_ended);
  const auto got = events.snapshot();
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == "1");
  CHECK(got[1].id == "2");
}

TEST_CASE("pause: a gzip body held and resumed again and again arrives whole",
          "[client][pause][integration][issue-23]") {
  // libcurl decodes a whole read before the pause takes effect and keeps the decoded rest:
  // 24 MiB of events from 0.5 MiB of gzip.
  constexpr std::size_t count = 200000;
  std::string body;
  for (std::size_t i = 0; i < count; ++i) {
    body += "id: " + std::to_string(i) + "\ndata: " + std::string(100, 'x') + "\n\n";
  }
  const std::string compressed = gzip(body);
  body = std::string();
  test_server server([&](connection& c) {
    c.send_head(200, {{"Content-Type", "text/event-stream"}, {"Content-Encoding", "gzip"}});
    c.send(compressed);
    c.close();
  });
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  options.compression = true;
  std::vector<std::uint64_t> ids;
  ids.reserve(count);
  std::atomic<std::uint64_t> delivered{0};
  recorder<sse::close_reason> closes;
  recorder<sse::error> errors;
  sse::client client(options);
  client.on_message([&](const sse::event& e) {
    ids.push_back(std::stoull(e.id));
    if (delivered.fetch_add(1) % 1000 == 999) {
      client.pause();
    }
  });
  client.on_close([&](sse::close_reason r) { closes.push(r); });
  client.on_error([&](const sse::error& e) { errors.push(e); });
  client.start();
  // Bounded: each pass waits for a paused client (or the end), then resumes it.
  for (std::size_t round = 0; round <= count / 1000 && closes.size() == 0; ++round) {
    wait_until([&] { return client.stats().paused || closes.size() > 0; }, 10s);
    client.resume();
  }
  REQUIRE(closes.wait_for_size(1, 30s));
  CHECK(closes.snapshot().front() == sse::close_reason::server_ended);
  CHECK(errors.size() == 0);
  REQUIRE(ids.size() == count);
  bool in_order = true;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    in_order = in_order && ids[i] == i;
  }
  CHECK(in_order);
}
