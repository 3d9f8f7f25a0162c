// SPDX-License-Identifier: MIT
// The compiled mode (SSE_CLIENT_SEPARATE_COMPILATION, linked to sse_client::compiled): what a
// client's file includes stays declarations only, and the client, the loop and the cookie jar
// defined once in src/sse_client.cpp work as in header-only mode.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#ifndef SSE_CLIENT_SEPARATE_COMPILATION
#error "build this test with SSE_CLIENT_SEPARATE_COMPILATION (link sse_client::compiled)"
#endif
#if !SSE_CLIENT_DECLARATIONS_ONLY
#error "<sse/sse.hpp> must only declare in compiled mode"
#endif
// What made a client's file slow to compile: libcurl's header, the stream and the loop's innards.
#ifdef CURLINC_CURL_H
#error "<sse/sse.hpp> must not include <curl/curl.h> in compiled mode"
#endif
#ifdef SSE_CLIENT_DETAIL_STREAM_HPP
#error "<sse/sse.hpp> must not include <sse/detail/stream.hpp> in compiled mode"
#endif
#ifdef SSE_CLIENT_DETAIL_CURL_HPP
#error "<sse/sse.hpp> must not include <sse/detail/curl.hpp> in compiled mode"
#endif

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

TEST_CASE("compiled mode: a client receives events, reconnects and closes",
          "[compiled][client][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("id: 1\ndata: hello\n\n");
    c.close();
  });
  collected c;
  sse::client client(fast_options(server.url("/s")));
  c.attach(client);
  std::vector<std::string> messages;
  client.on_message([&](const sse::event& e) { messages.push_back(e.data); });
  client.start();
  REQUIRE(c.events.wait_for_size(2, 5s)); // the server closes: a reconnect delivers it again
  CHECK(c.events.snapshot()[0] == sse::event{"message", "hello", "1"});
  CHECK(server.requests().at(1).header("Last-Event-ID") == std::optional<std::string>("1"));
  CHECK(wait_until([&] { return client.last_event_id() == "1"; }, 5s));
  CHECK(client.url() == server.url("/s"));
  CHECK(client.stats().events >= 2);
  client.close();
  CHECK(client.ready_state() == sse::ready_state::closed);
  REQUIRE(client.wait_for(5s));
  CHECK(client.close_reason() == sse::close_reason::closed);
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot() == std::vector<sse::close_reason>{sse::close_reason::closed});
}

TEST_CASE("compiled mode: usage errors still throw when the client is built",
          "[compiled][client]") {
  sse::client_options options;
  options.url = "ftp://127.0.0.1/";
  CHECK_THROWS_AS(sse::client(options), sse::usage_error);
}

TEST_CASE("compiled mode: a caller-thread loop runs posted work and timers", "[compiled][loop]") {
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  std::vector<int> order;
  loop.add_timer(1ms, [&] { order.push_back(2); });
  REQUIRE(loop.post([&] { order.push_back(1); }));
  const auto cancelled = loop.add_timer(1h, [&] { order.push_back(3); });
  CHECK(loop.cancel_timer(cancelled));
  loop.run();
  CHECK(order == std::vector<int>{1, 2});
  CHECK_THROWS_AS(loop.process(), std::logic_error); // only for mode::external
}

TEST_CASE("compiled mode: a cookie jar keeps cookies and saves them", "[compiled][cookies]") {
  sse::cookie_jar jar;
  jar.add("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc");
  const sse::cookie_jar copy = jar; // a handle: copies share the store
  REQUIRE(copy.cookies().size() == 1);
  CHECK(copy.cookies()[0].find("session\tabc") != std::string::npos);
  CHECK(jar.native_handle() != nullptr);
  CHECK_THROWS_AS(jar.add("not a cookie"), sse::usage_error);
  jar.clear();
  CHECK(copy.cookies().empty());
}
