// SPDX-License-Identifier: MIT
// client_options::one_shot against real servers on 127.0.0.1: a request is never replayed once
// the server may have acted on it.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::stream_headers;
using sse_test::test_server;

namespace {

sse::client_options one_shot_post(const std::string& url) {
  auto options = fast_options(url);
  options.method = "POST";
  options.body = R"({"prompt":"hello"})";
  options.headers = {{"Content-Type", "application/json"}};
  options.one_shot = true;
  return options;
}

} // namespace

TEST_CASE("one_shot: a POST cut in the middle of the answer is not sent again",
          "[client][one_shot][integration]") {
  std::string cut;
  sse::errc expected = sse::errc::network;
  auto options = one_shot_post("http://127.0.0.1:1/");
  SECTION("connection reset") {
    cut = "reset";
  }
  SECTION("chunked body ends without its last chunk") {
    cut = "chunked";
  }
  SECTION("idle timeout") {
    cut = "stall";
    options.idle_timeout = 200ms;
    expected = sse::errc::idle_timeout;
  }
  test_server server([cut](connection& c) {
    c.send_head(200, stream_headers, cut == "chunked");
    c.send_chunk("data: {\"tok\":\"Hel\"}\n\ndata: {\"tok\":\"lo\"}\n\n");
    if (cut == "reset") {
      c.abort();
    } else if (cut == "chunked") {
      c.close();
    } else {
      c.wait_closed_by_peer(10s);
    }
  });
  options.url = server.url("/v1/chat");
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::truncated);
  CHECK(client.close_reason() == sse::close_reason::truncated);
  CHECK(c.events.size() == 2);
  REQUIRE(c.errors.size() == 1);
  const sse::error e = c.errors.snapshot()[0];
  CHECK(e.code == expected);
  CHECK_FALSE(e.will_retry);
  CHECK(server.requests().size() == 1);
  CHECK(client.stats().attempts == 1);
}

TEST_CASE("one_shot: the same cut without it sends the request again",
          "[client][one_shot][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send(++n == 1 ? "data: a\n\n" : "data: b\n\ndata: [DONE]\n\n");
    if (n == 1) {
      c.abort();
    }
  });
  auto options = one_shot_post(server.url("/"));
  options.one_shot = false;
  options.reconnect_on_end = false;
  options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::terminal_event);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("one_shot: a 503 before the stream is retried, honouring Retry-After, then succeeds",
          "[client][one_shot][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    if (++n == 1) {
      c.send_head(503, {{"Retry-After", "1"}, {"Content-Type", "text/plain"}});
      c.send("busy");
      c.close();
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: answer\n\ndata: [DONE]\n\n");
    c.wait_closed_by_peer(10s);
  });
  auto options = one_shot_post(server.url("/"));
  options.reconnect.max_delay = 5s; // the policy alone would retry at once
  options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::terminal_event);
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors.snapshot()[0].http_status == 503);
  CHECK(c.errors.snapshot()[0].will_retry);
  CHECK(c.errors.snapshot()[0].retry_delay == 1000ms);
  CHECK(c.events.size() == 2);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].body == R"({"prompt":"hello"})");
}

TEST_CASE("one_shot: a clean end of the body ends the stream as server_ended",
          "[client][one_shot][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: one\n\ndata: two\n\n");
    c.close();
  });
  collected c;
  sse::client client(one_shot_post(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::server_ended);
  CHECK(c.events.size() == 2);
  CHECK(c.errors.size() == 0);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("one_shot: a connect failure is retried within the reconnect policy",
          "[client][one_shot][integration]") {
  auto options = one_shot_post("http://127.0.0.1:" + std::to_string(sse_test::unused_port()) + "/");
  options.reconnect.max_attempts = 2;
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::gave_up);
  REQUIRE(c.errors.size() >= 2);
  CHECK(c.errors.snapshot()[0].will_retry);
  CHECK(client.stats().attempts >= 2);
}

TEST_CASE("one_shot: a connection lost after the request went out is not retried",
          "[client][one_shot][integration]") {
  test_server server([](connection& c) { c.abort(); }); // the request was read, no answer
  collected c;
  sse::client client(one_shot_post(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors.snapshot()[0].code == sse::errc::network);
  CHECK_FALSE(c.errors.snapshot()[0].will_retry);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("one_shot: on_failure cannot turn a loss after the stream was accepted into a retry",
          "[client][one_shot][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: a\n\n");
    c.abort();
  });
  auto options = one_shot_post(server.url("/"));
  std::atomic<int> asked{0};
  std::atomic<bool> proposed_retry{true};
  options.on_failure = [&](const sse::error&, sse::retry_decision proposed) {
    ++asked;
    proposed_retry = proposed.retry;
    return sse::retry_decision{true, 0ms};
  };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::truncated);
  CHECK(asked == 1);
  CHECK_FALSE(proposed_retry);
  CHECK(server.requests().size() == 1);
}
