// SPDX-License-Identifier: MIT
// sse::client against real servers on 127.0.0.1: connection rules, reconnects, hooks, threading.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>
#ifndef _WIN32
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef _WIN32
extern char** environ;
#endif

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

// Serves `body` to every request, then closes.
test_server::handler serve(std::string body) {
  return [body](connection& c) {
    c.send_head(200, stream_headers);
    c.send(body);
    c.close();
  };
}

// Serves `body` and keeps the connection open until the client leaves or the server stops.
test_server::handler serve_and_hold(std::string body) {
  return [body](connection& c) {
    c.send_head(200, stream_headers);
    c.send(body);
    c.wait_closed_by_peer(10s);
  };
}

// `count` events with data 0, 1, 2...: small enough that thousands arrive in one read.
std::string numbered_events(int count) {
  std::string body;
  for (int i = 0; i < count; ++i) {
    body += "data: " + std::to_string(i) + "\n\n";
  }
  return body;
}

} // namespace

TEST_CASE("client: receives events and reports open", "[client][integration]") {
  test_server server(serve_and_hold("id: 1\ndata: hello\n\nevent: update\ndata: world\n\n"));
  collected c;
  sse::client client(fast_options(server.url("/stream")));
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(2, 5s));
  const auto events = c.events.snapshot();
  CHECK(events[0] == sse::event{"message", "hello", "1"});
  CHECK(events[1] == sse::event{"update", "world", "1"});
  CHECK(client.ready_state() == sse::ready_state::open);
  // From this thread the id is published after the chunk's listeners returned.
  CHECK(wait_until([&] { return client.last_event_id() == "1"; }, 5s));
  CHECK(c.opens.snapshot() == std::vector<long>{200});
  CHECK(c.errors.size() == 0);
}

TEST_CASE("client: sends the default request headers and no Last-Event-ID at first",
          "[client][integration]") {
  test_server server(serve_and_hold("data: x\n\n"));
  collected c;
  sse::client client(fast_options(server.url("/s")));
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  const auto request = server.requests().at(0);
  CHECK(request.method == "GET");
  CHECK(request.target == "/s");
  CHECK(request.header("Accept") == std::optional<std::string>("text/event-stream"));
  CHECK(request.header("Cache-Control") == std::optional<std::string>("no-cache"));
  CHECK_FALSE(request.header("Last-Event-ID"));
  CHECK_FALSE(request.header("Accept-Encoding"));
  CHECK(request.body.empty());
}

TEST_CASE("client: user headers, method and body reach the server on every attempt",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/chat"));
  options.method = "POST";
  options.body = R"({"prompt":"hi"})";
  options.headers = {{"Authorization", "Bearer t0k"}, {"Content-Type", "application/json"}};
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(server.wait_for_requests(2, 5s));
  client.close();
  for (const auto& request : server.requests()) {
    CHECK(request.method == "POST");
    CHECK(request.body == R"({"prompt":"hi"})");
    CHECK(request.header("Authorization") == std::optional<std::string>("Bearer t0k"));
    CHECK(request.header("Content-Type") == std::optional<std::string>("application/json"));
    CHECK_FALSE(request.header("Expect"));
  }
}

TEST_CASE("client: REPORT sends its body; resend_body=false drops it on reconnects",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.method = "REPORT";
  options.body = "query";
  options.resend_body = false;
  sse::client client(options);
  client.start();
  REQUIRE(server.wait_for_requests(2, 5s));
  client.close();
  const auto requests = server.requests();
  CHECK(requests[0].method == "REPORT");
  CHECK(requests[0].body == "query");
  CHECK(requests[1].method == "REPORT");
  CHECK(requests[1].body.empty());
  CHECK_FALSE(requests[0].header("Content-Type").value_or("").find("form") != std::string::npos);
}

TEST_CASE("client: reconnects with the last complete event's id, dropping a partial event",
          "[client][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    const int i = ++n;
    c.send_head(200, stream_headers);
    if (i == 1) {
      c.send("id: a\ndata: one\n\nid: b\ndata: partial");
    } else if (i == 2) {
      c.send("data: two\n\n");
    } else {
      c.send("id:\ndata: three\n\n");
    }
    c.close();
  });
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(3, 5s));
  REQUIRE(server.wait_for_requests(4, 5s));
  client.close();
  const auto events = c.events.snapshot();
  CHECK(events[0] == sse::event{"message", "one", "a"});
  CHECK(events[1] == sse::event{"message", "two", "a"}); // the id persists across the reconnect
  CHECK(events[2] == sse::event{"message", "three", ""});
  const auto requests = server.requests();
  CHECK_FALSE(requests[0].header("Last-Event-ID"));
  CHECK(requests[1].header("Last-Event-ID") == std::optional<std::string>("a"));
  CHECK(requests[2].header("Last-Event-ID") == std::optional<std::string>("a"));
  CHECK_FALSE(requests[3].header("Last-Event-ID")); // an empty id: sends none, never an empty one
}

TEST_CASE("client: an initial last_event_id is sent on the first request",
          "[client][integration]") {
  test_server server(serve_and_hold("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.last_event_id = "42";
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  CHECK(server.requests().at(0).header("Last-Event-ID") == std::optional<std::string>("42"));
  CHECK(c.events.snapshot()[0].id == "42");
}

TEST_CASE("client: a Last-Event-ID header is where the stream starts, not a fixed header",
          "[client][integration]") {
  std::atomic<int> served{0};
  test_server server([&served](connection& c) {
    c.send_head(200, stream_headers);
    if (++served == 1) {
      c.send("id: 6\ndata: six\n\n");
      c.close();
    } else {
      c.wait_closed_by_peer(10s);
    }
  });
  auto options = fast_options(server.url("/"));
  options.headers.push_back({"last-event-id", "5"});
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(server.wait_for_requests(2, 5s));
  client.close();
  const auto requests = server.requests();
  const auto ids_sent = [](const sse_test::request& r) {
    std::vector<std::string> ids;
    for (const auto& [name, value] : r.headers) {
      if (name == "Last-Event-ID" || name == "last-event-id") {
        ids.push_back(value);
      }
    }
    return ids;
  };
  CHECK(ids_sent(requests[0]) == std::vector<std::string>{"5"});
  CHECK(ids_sent(requests[1]) == std::vector<std::string>{"6"}); // resumes after the event seen
}

TEST_CASE("client: a clean end of body is reported and reconnected", "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.errors.wait_for_size(1, 5s));
  const auto e = c.errors.snapshot()[0];
  CHECK(e.code == sse::errc::network);
  CHECK(e.will_retry);
  REQUIRE(server.wait_for_requests(2, 5s));
  client.close();
}

TEST_CASE("client: status classes decide between retrying and ending", "[client][integration]") {
  struct expectation {
    int status;
    std::string content_type;
    bool retried;
    sse::errc code;
  };
  const std::vector<expectation> cases{
      {500, "text/plain", true, sse::errc::http_status},
      {503, "text/plain", true, sse::errc::http_status},
      {408, "text/plain", true, sse::errc::http_status},
      {429, "text/plain", true, sse::errc::http_status},
      {400, "text/plain", false, sse::errc::http_status},
      {401, "text/plain", false, sse::errc::http_status},
      {404, "text/plain", false, sse::errc::http_status},
      {201, "text/event-stream", false, sse::errc::http_status},
      {200, "text/html", false, sse::errc::content_type},
      {200, "", false, sse::errc::content_type},
  };
  for (const auto& expected : cases) {
    DYNAMIC_SECTION("status " << expected.status << " " << expected.content_type) {
      test_server server([&](connection& c) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!expected.content_type.empty()) {
          headers.emplace_back("Content-Type", expected.content_type);
        }
        headers.emplace_back("Content-Length", "4");
        c.send_head(expected.status, headers);
        c.send("oops");
        c.close();
      });
      collected c;
      sse::client client(fast_options(server.url("/")));
      c.attach(client);
      client.start();
      REQUIRE(c.errors.wait_for_size(1, 5s));
      const auto e = c.errors.snapshot()[0];
      CHECK(e.code == expected.code);
      CHECK(e.http_status == expected.status);
      CHECK(e.will_retry == expected.retried);
      CHECK(e.body == "oops");
      CHECK(c.events.size() == 0);
      if (expected.retried) {
        REQUIRE(server.wait_for_requests(3, 5s));
        client.close();
      } else {
        REQUIRE(c.closes.wait_for_size(1, 5s));
        CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
        CHECK(client.ready_state() == sse::ready_state::closed);
        CHECK(server.requests().size() == 1);
      }
    }
  }
}

TEST_CASE("client: 204 ends the stream for good without an error", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(204, {});
    c.close();
  });
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::no_content);
  CHECK(client.close_reason() == sse::close_reason::no_content);
  CHECK(c.errors.size() == 0);
  CHECK(server.requests().size() == 1);
  CHECK(client.wait_for(1s));
}

TEST_CASE("client: Content-Type parameters and case are accepted", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, {{"Content-Type", "Text/Event-Stream; charset=utf-8"}});
    c.send("data: ok\n\n");
    c.wait_closed_by_peer(10s);
  });
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  CHECK(c.events.snapshot()[0].data == "ok");
}

TEST_CASE("client: retry field sets the reconnect delay, clamped", "[client][integration]") {
  test_server server(serve("retry: 120\ndata: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.reconnect.max_delay = 10s;
  SECTION("within bounds") {
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.errors.wait_for_size(1, 5s));
    client.close();
    CHECK(c.errors.snapshot()[0].retry_delay == 120ms);
  }
  SECTION("raised to min_retry") {
    options.reconnect.min_retry = 300ms;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.errors.wait_for_size(1, 5s));
    client.close();
    CHECK(c.errors.snapshot()[0].retry_delay == 300ms);
  }
  SECTION("lowered to max_retry") {
    options.reconnect.min_retry = 0ms;
    options.reconnect.max_retry = 70ms;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.errors.wait_for_size(1, 5s));
    client.close();
    CHECK(c.errors.snapshot()[0].retry_delay == 70ms);
  }
}

TEST_CASE("client: Retry-After on 503 delays the reconnect, capped at max_delay",
          "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(503, {{"Retry-After", "2"}, {"Content-Length", "0"}});
    c.close();
  });
  auto options = fast_options(server.url("/"));
  options.reconnect.max_delay = 1500ms;
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.errors.wait_for_size(1, 5s));
  client.close();
  CHECK(c.errors.snapshot()[0].retry_delay == 1500ms);
}

TEST_CASE("client: max attempts ends with gave_up", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(500, {{"Content-Length", "0"}});
    c.close();
  });
  auto options = fast_options(server.url("/"));
  options.reconnect.max_attempts = 3;
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::gave_up);
  CHECK(server.requests().size() == 4); // the first attempt and three reconnects
  const auto errors = c.errors.snapshot();
  REQUIRE(errors.size() == 4);
  CHECK(errors[0].attempt == 1);
  CHECK(errors[3].attempt == 4);
  CHECK_FALSE(errors[3].will_retry);
}

TEST_CASE("client: losing an open stream is the first failure of a new run",
          "[client][integration]") {
  // Two failures, an open stream that ends, then failures until max_attempts gives up.
  std::atomic<int> served{0};
  test_server server([&served](connection& c) {
    if (++served == 3) {
      c.send_head(200, stream_headers);
      c.send("data: x\n\n");
    } else {
      c.send_head(500, {{"Content-Length", "0"}});
    }
    c.close();
  });
  auto options = fast_options(server.url("/"));
  options.reconnect.max_attempts = 2;
  recorder<unsigned> attempts;
  options.before_attempt = [&attempts](sse::attempt_request& r) { attempts.push(r.attempt); };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::gave_up);
  CHECK(c.events.size() == 1);
  std::vector<unsigned> failed;
  for (const auto& e : c.errors.snapshot()) {
    failed.push_back(e.attempt);
  }
  CHECK(failed == std::vector<unsigned>{1, 2, 1, 2, 3});
  CHECK(attempts.snapshot() == std::vector<unsigned>{1, 2, 3, 2, 3});
}

TEST_CASE("client: wait() from a callback throws instead of waiting for ever",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.reconnect_on_end = false;
  sse::client client(options);
  std::atomic<int> threw{0};
  std::atomic<int> returned_at_close{0};
  client.on_open([&](const sse::response_info&) {
    try {
      client.wait_for(10s);
    } catch (const std::logic_error&) {
      ++threw;
    }
    try {
      client.wait();
    } catch (const std::logic_error&) {
      ++threw;
    }
  });
  client.on_close([&](sse::close_reason) {
    if (client.wait_for(10s)) { // it has ended: no wait, no throw
      ++returned_at_close;
    }
  });
  client.start();
  REQUIRE(client.wait_for(5s));
  CHECK(threw == 2);
  CHECK(returned_at_close == 1);
}

TEST_CASE("client: idle timeout drops a silent connection and reconnects",
          "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: x\n\n");
    c.wait_closed_by_peer(10s); // then silence
  });
  auto options = fast_options(server.url("/"));
  options.idle_timeout = 150ms;
  collected c;
  sse::client client(options);
  c.attach(client);
  const auto started = std::chrono::steady_clock::now();
  client.start();
  REQUIRE(c.errors.wait_for_size(1, 5s));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(c.errors.snapshot()[0].code == sse::errc::idle_timeout);
  CHECK(elapsed >= 150ms);
  REQUIRE(c.events.wait_for_size(2, 5s)); // reconnected
  client.close();
}

TEST_CASE("client: comments keep an idle connection alive", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    for (int i = 0; i < 8 && c.sleep_for(40ms); ++i) {
      c.send(":hb\n");
    }
    c.send("data: done\n\n");
    c.wait_closed_by_peer(10s);
  });
  auto options = fast_options(server.url("/"));
  options.idle_timeout = 200ms;
  collected c;
  recorder<std::string> comments;
  sse::client client(options);
  c.attach(client);
  client.on_comment([&](std::string_view text) { comments.push(std::string(text)); });
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  CHECK(c.errors.size() == 0);
  CHECK(comments.size() == 8);
  CHECK(comments.snapshot()[0] == "hb");
}

TEST_CASE("client: on_response and on_open see the response's HTTP version",
          "[client][integration]") {
  test_server server(serve_and_hold("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  recorder<std::string> responses;
  options.on_response = [&](const sse::response_info& r) { responses.push(r.http_version); };
  recorder<std::string> opens;
  sse::client client(options);
  client.on_open([&](const sse::response_info& r) { opens.push(r.http_version); });
  client.start();
  REQUIRE(opens.wait_for_size(1, 5s));
  client.close();
  CHECK(responses.snapshot() == std::vector<std::string>{"HTTP/1.1"});
  CHECK(opens.snapshot() == std::vector<std::string>{"HTTP/1.1"});
}

TEST_CASE("client: redirects are followed, 307 keeps method and body", "[client][integration]") {
  test_server server([](connection& c) {
    const auto& target = c.req().target;
    if (target == "/old") {
      c.send_head(301, {{"Location", "/temp"}, {"Content-Length", "0"}});
    } else if (target == "/temp") {
      c.send_head(307, {{"Location", "/new"}, {"Content-Length", "0"}});
    } else {
      c.send_head(200, stream_headers);
      c.send("data: " + c.req().method + " " + c.req().body + "\n\n");
      c.wait_closed_by_peer(10s);
      return;
    }
    c.close();
  });
  SECTION("GET") {
    collected c;
    std::string answered;
    sse::client client(fast_options(server.url("/old")));
    client.on_open([&](const sse::response_info& r) { answered = r.url; });
    c.attach(client);
    client.start();
    REQUIRE(c.events.wait_for_size(1, 5s));
    CHECK(c.events.snapshot()[0].data == "GET ");
    client.close();
    CHECK(answered == server.url("/new"));
  }
  SECTION("POST through 307") {
    auto options = fast_options(server.url("/temp"));
    options.method = "POST";
    options.body = "b";
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.events.wait_for_size(1, 5s));
    CHECK(c.events.snapshot()[0].data == "POST b");
  }
}

TEST_CASE("client: a redirect without Location is an error", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(302, {{"Content-Length", "0"}});
    c.close();
  });
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  client.start();
  REQUIRE(c.errors.wait_for_size(1, 5s));
  CHECK(c.errors.snapshot()[0].code == sse::errc::http_status);
  CHECK(c.errors.snapshot()[0].http_status == 302);
  CHECK(c.events.size() == 0);
}

TEST_CASE("client: redirects only to http and https, and only up to the limit",
          "[client][integration]") {
  SECTION("to another scheme") {
    for (const std::string target :
         {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/"}) {
      test_server server([&](connection& c) {
        c.send_head(302, {{"Location", target}, {"Content-Length", "0"}});
        c.close();
      });
      collected c;
      sse::client client(fast_options(server.url("/")));
      c.attach(client);
      client.start();
      REQUIRE(c.closes.wait_for_size(1, 5s));
      CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
      CHECK(c.errors.snapshot().at(0).code == sse::errc::network);
      CHECK(server.requests().size() == 1);
    }
  }
  SECTION("a loop") {
    test_server server([](connection& c) {
      c.send_head(302, {{"Location", "/again"}, {"Content-Length", "0"}});
      c.close();
    });
    auto options = fast_options(server.url("/"));
    options.max_redirects = 3;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
    CHECK(server.requests().size() == 4);
  }
}

TEST_CASE("client: the per-attempt hook changes headers before each attempt",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.before_attempt = [](sse::attempt_request& request) {
    request.headers.emplace_back("X-Attempt", std::to_string(request.attempt));
    request.headers.emplace_back("Authorization",
                                 "Bearer token-" + std::to_string(request.attempt));
  };
  sse::client client(options);
  client.start();
  REQUIRE(server.wait_for_requests(2, 5s));
  client.close();
  const auto requests = server.requests();
  CHECK(requests[0].header("X-Attempt") == std::optional<std::string>("1"));
  CHECK(requests[0].header("Authorization") == std::optional<std::string>("Bearer token-1"));
  CHECK(requests[1].header("Authorization").has_value());
}

TEST_CASE("client: the failure hook turns a 401 into a retry with a fresh token",
          "[client][integration]") {
  test_server server([](connection& c) {
    if (c.req().header("Authorization") != std::optional<std::string>("Bearer fresh")) {
      c.send_head(401, {{"Content-Length", "0"}});
      c.close();
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: welcome\n\n");
    c.wait_closed_by_peer(10s);
  });
  std::atomic<bool> refreshed{false};
  auto options = fast_options(server.url("/"));
  options.before_attempt = [&](sse::attempt_request& request) {
    request.headers.emplace_back("Authorization", refreshed ? "Bearer fresh" : "Bearer stale");
  };
  options.on_failure = [&](const sse::error& e, sse::retry_decision proposed) {
    if (e.http_status == 401 && e.attempt <= 2) {
      refreshed = true;
      return sse::retry_decision{true, 0ms};
    }
    return proposed;
  };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  CHECK(c.events.snapshot()[0].data == "welcome");
  const auto errors = c.errors.snapshot();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].will_retry);
}

TEST_CASE("client: the failure hook can stop retries", "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.on_failure = [](const sse::error&, sse::retry_decision) { return sse::retry_decision{}; };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
  CHECK_FALSE(c.errors.snapshot()[0].will_retry);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("client: one-shot streams end on a terminal event or a clean end",
          "[client][integration]") {
  SECTION("terminal event") {
    test_server server(serve_and_hold("data: a\n\ndata: [DONE]\n\ndata: after\n\n"));
    auto options = fast_options(server.url("/"));
    options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::terminal_event);
    const auto events = c.events.snapshot();
    REQUIRE(events.size() == 2);
    CHECK(events[1].data == "[DONE]");
    CHECK(c.errors.size() == 0);
  }
  SECTION("clean end") {
    test_server server(serve("data: a\n\n"));
    auto options = fast_options(server.url("/"));
    options.reconnect_on_end = false;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::server_ended);
    CHECK(c.events.size() == 1);
    CHECK(server.requests().size() == 1);
  }
  SECTION("truncated") {
    test_server server(serve("data: a\n\ndata: cut"));
    auto options = fast_options(server.url("/"));
    options.reconnect_on_end = false;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::truncated);
  }
}

TEST_CASE("client: states go connecting, open, connecting, open, closed", "[client][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: x\n\n");
    if (++n == 1) {
      c.close();
    } else {
      c.wait_closed_by_peer(10s);
    }
  });
  collected c;
  sse::client client(fast_options(server.url("/")));
  c.attach(client);
  CHECK(client.ready_state() == sse::ready_state::connecting);
  client.start();
  REQUIRE(c.events.wait_for_size(2, 5s));
  client.close();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  using s = sse::ready_state;
  CHECK(c.states.snapshot() == std::vector<s>{s::open, s::connecting, s::open, s::closed});
  CHECK(client.close_reason() == sse::close_reason::closed);
}

TEST_CASE("client: close from inside a listener delivers nothing more", "[client][integration]") {
  test_server server(serve_and_hold("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  recorder<std::string> seen;
  sse::client client(fast_options(server.url("/")));
  client.on_message([&](const sse::event& e) {
    seen.push(e.data);
    client.close();
  });
  client.start();
  REQUIRE(client.wait_for(5s));
  CHECK(seen.snapshot() == std::vector<std::string>{"1"});
  CHECK(client.close_reason() == sse::close_reason::closed);
}

TEST_CASE("client: off during dispatch stops that listener at once", "[client][integration]") {
  test_server server(serve_and_hold("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  recorder<std::string> first;
  recorder<std::string> second;
  sse::client client(fast_options(server.url("/")));
  sse::listener_id second_id{};
  client.on_message([&](const sse::event& e) {
    first.push(e.data);
    client.off(second_id);
  });
  second_id = client.on_message([&](const sse::event& e) { second.push(e.data); });
  client.start();
  REQUIRE(first.wait_for_size(3, 5s));
  CHECK(second.size() == 0);
}

TEST_CASE("client: off and the destructor from another thread wait for one callback, not more",
          "[client][integration]") {
  // Thousands of events arrive in few reads, and one listener is slow: off() and the destructor
  // must return once the callback running at that moment has, and nothing removed runs later.
  test_server server(serve_and_hold(numbered_events(5000)));
  auto client = std::make_unique<sse::client>(fast_options(server.url("/")));
  std::atomic<bool> removed{false};
  std::atomic<bool> destroyed{false};
  std::atomic<int> late_calls{0};
  std::atomic<int> slow_calls{0};
  const auto removed_id = client->on_message([&](const sse::event&) {
    if (removed.load()) {
      late_calls.fetch_add(1);
    }
  });
  client->on_message([&](const sse::event&) {
    if (destroyed.load()) {
      late_calls.fetch_add(1);
    }
    slow_calls.fetch_add(1);
    std::this_thread::sleep_for(1ms); // slow user work, not synchronisation
  });
  client->start();
  REQUIRE(wait_until([&] { return slow_calls.load() >= 20; }, 5s));

  auto started = std::chrono::steady_clock::now();
  client->off(removed_id);
  const auto off_took = std::chrono::steady_clock::now() - started;
  removed.store(true);
  const int before = slow_calls.load();
  REQUIRE(wait_until([&] { return slow_calls.load() >= before + 20; }, 5s)); // the stream goes on

  started = std::chrono::steady_clock::now();
  client.reset();
  const auto destroy_took = std::chrono::steady_clock::now() - started;
  destroyed.store(true);
  const int at_destroy = slow_calls.load();
  // Had a callback outlived the destructor, it would count here within a few milliseconds.
  CHECK_FALSE(wait_until([&] { return slow_calls.load() != at_destroy; }, 50ms));
  CHECK(late_calls.load() == 0);
  CHECK(off_took < 100ms);
  CHECK(destroy_took < 100ms);
}

TEST_CASE("client: a listener that throws is reported and the stream goes on",
          "[client][integration]") {
  test_server server(serve_and_hold("data: 1\n\ndata: 2\n\n"));
  collected c;
  sse::client client(fast_options(server.url("/")));
  client.on_message([](const sse::event& e) {
    if (e.data == "1") {
      throw std::runtime_error("boom");
    }
  });
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(2, 5s));
  REQUIRE(c.errors.wait_for_size(1, 5s));
  CHECK(c.errors.snapshot()[0].code == sse::errc::listener);
  CHECK(c.errors.snapshot()[0].message.find("boom") != std::string::npos);
  CHECK(client.ready_state() == sse::ready_state::open);
}

TEST_CASE("client: a throwing sole listener is reported and still gets the next event",
          "[client][integration]") {
  // One event listener takes the client's shortest delivery path; it must catch as the loop does.
  test_server server(serve_and_hold("data: 1\n\ndata: 2\n\n"));
  recorder<std::string> seen;
  recorder<sse::error> errors;
  sse::client client(fast_options(server.url("/")));
  client.on_message([&](const sse::event& e) {
    seen.push(e.data);
    if (e.data == "1") {
      throw std::runtime_error("boom");
    }
  });
  client.on_error([&](const sse::error& e) { errors.push(e); });
  client.start();
  REQUIRE(seen.wait_for_size(2, 5s));
  CHECK(seen.snapshot() == std::vector<std::string>{"1", "2"});
  REQUIRE(errors.wait_for_size(1, 5s));
  CHECK(errors.snapshot()[0].code == sse::errc::listener);
  CHECK(errors.snapshot()[0].message.find("boom") != std::string::npos);
}

TEST_CASE("client: restart reconnects at once with the last id and no error",
          "[client][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    const int i = ++n;
    c.send_head(200, stream_headers);
    c.send("id: " + std::to_string(i) + "\ndata: " + std::to_string(i) + "\n\n");
    c.wait_closed_by_peer(10s);
  });
  auto options = fast_options(server.url("/"));
  options.reconnect.initial_delay = 10s; // a restart does not wait for the backoff
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  client.restart();
  REQUIRE(c.events.wait_for_size(2, 5s));
  CHECK(c.errors.size() == 0);
  CHECK(server.requests().at(1).header("Last-Event-ID") == std::optional<std::string>("1"));
}

TEST_CASE("client: close while connecting to a server that never answers is prompt",
          "[client][integration]") {
  sse_test::silent_server server;
  sse::client client(fast_options(server.url()));
  client.start();
  REQUIRE(wait_until([&] { return client.stats().attempts == 1; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  client.close();
  REQUIRE(client.wait_for(5s));
  CHECK(std::chrono::steady_clock::now() - started < 100ms);
}

TEST_CASE("client: destructor while a reconnect is pending returns at once",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  auto options = fast_options(server.url("/"));
  options.reconnect.initial_delay = 30s;
  options.reconnect.max_delay = 60s;
  collected c;
  auto client = std::make_unique<sse::client>(options);
  c.attach(*client);
  client->start();
  REQUIRE(c.errors.wait_for_size(1, 5s));
  const auto started = std::chrono::steady_clock::now();
  client.reset();
  CHECK(std::chrono::steady_clock::now() - started < 100ms);
}

TEST_CASE("client: usage errors name the field", "[client]") {
  sse::client_options options;
  options.url = "ftp://example.com/";
  CHECK_THROWS_WITH(sse::client(options), Catch::Contains("options.url") && Catch::Contains("ftp"));
  options.url = "http://127.0.0.1/";
  options.headers = {{"Bad Name", "x"}};
  CHECK_THROWS_AS(sse::client(options), sse::usage_error);
  options.headers = {{"X", "a\r\nInjected: 1"}};
  CHECK_THROWS_WITH(sse::client(options), Catch::Contains("options.headers"));
  options.headers.clear();
  options.idle_timeout = 0ms;
  CHECK_THROWS_WITH(sse::client(options), Catch::Contains("options.idle_timeout"));
}

TEST_CASE("client: on, off and close race from other threads", "[client][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    for (int i = 0; i < 2000 && !c.stopping(); ++i) {
      if (!c.send("data: " + std::to_string(i) + "\n\n")) {
        return;
      }
    }
    c.wait_closed_by_peer(10s);
  });
  std::atomic<int> calls{0};
  sse::client client(fast_options(server.url("/")));
  client.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto id = client.on_message([&](const sse::event&) { calls.fetch_add(1); });
        (void)client.last_event_id();
        (void)client.ready_state();
        client.off(id);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  client.close();
  REQUIRE(client.wait_for(5s));
}

TEST_CASE("client: 200 clients on one loop each receive every event on one thread",
          "[client][integration]") {
  constexpr int clients = 200;
  constexpr int events = 20;
  std::string body;
  for (int i = 0; i < events; ++i) {
    body += "id: " + std::to_string(i) + "\ndata: " + std::to_string(i) + "\n\n";
  }
  test_server server(serve_and_hold(body));
  std::atomic<int> received{0};
  std::mutex mutex;
  std::set<std::thread::id> threads;
  sse::event_loop loop;
  std::vector<std::unique_ptr<sse::client>> streams;
  for (int i = 0; i < clients; ++i) {
    streams.push_back(std::make_unique<sse::client>(fast_options(server.url("/")), loop));
    streams.back()->on_message([&](const sse::event&) {
      received.fetch_add(1);
      std::lock_guard<std::mutex> lock(mutex);
      threads.insert(std::this_thread::get_id());
    });
    streams.back()->start();
  }
  REQUIRE(wait_until([&] { return received.load() == clients * events; }, 30s));
  for (auto& s : streams) {
    CHECK(s->stats().events == static_cast<std::uint64_t>(events));
    CHECK(s->last_event_id() == std::to_string(events - 1));
  }
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("client: a caller-thread loop runs until its streams end", "[client][integration]") {
  test_server server(serve("data: a\n\ndata: b\n\n"));
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  auto options = fast_options(server.url("/"));
  options.reconnect_on_end = false;
  sse::client client(options, loop);
  std::vector<std::string> seen; // the loop runs on this thread: no lock needed
  client.on_message([&](const sse::event& e) { seen.push_back(e.data); });
  client.start();
  loop.run();
  CHECK(seen == std::vector<std::string>{"a", "b"});
  CHECK(client.close_reason() == sse::close_reason::server_ended);
}

TEST_CASE("client: listeners by type get their events, before and after an event field",
          "[client][integration]") {
  // "message" listeners match without a comparison until the first event field; the listeners
  // for other types and the one for every type see each event too.
  test_server server(serve("data: 1\n\ndata: 2\n\nevent: delta\ndata: 3\n\ndata: 4\n\n"
                           "event: message\ndata: 5\n\nevent: delta\ndata: 6\n\n"
                           "event: other\ndata: 7\n\ndata: 8\n\n"));
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  auto options = fast_options(server.url("/"));
  options.reconnect_on_end = false;
  sse::client client(options, loop);
  std::vector<std::string> messages;
  std::vector<std::string> deltas;
  std::vector<std::string> all;
  client.on_message([&](const sse::event& e) { messages.push_back(e.data); });
  client.on("delta", [&](const sse::event& e) { deltas.push_back(e.data); });
  client.on_any([&](const sse::event& e) { all.push_back(e.type + ":" + e.data); });
  client.start();
  loop.run();
  CHECK(messages == std::vector<std::string>{"1", "2", "4", "5", "8"});
  CHECK(deltas == std::vector<std::string>{"3", "6"});
  CHECK(all == std::vector<std::string>{"message:1", "message:2", "delta:3", "message:4",
                                        "message:5", "delta:6", "other:7", "message:8"});
}

TEST_CASE("client: a sole \"message\" listener skips the events of other types",
          "[client][integration]") {
  test_server server(serve("data: 1\n\nevent: delta\ndata: 2\n\ndata: 3\n\n"));
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  auto options = fast_options(server.url("/"));
  options.reconnect_on_end = false;
  sse::client client(options, loop);
  std::vector<std::string> messages;
  client.on_message([&](const sse::event& e) { messages.push_back(e.data); });
  client.start();
  loop.run();
  CHECK(messages == std::vector<std::string>{"1", "3"});
}

TEST_CASE("event_loop: a background loop destroyed at once stops promptly", "[loop]") {
  // A stop() that reaches the loop before its thread starts running must not be lost.
  for (int i = 0; i < 50; ++i) {
    const auto started = std::chrono::steady_clock::now();
    { sse::event_loop loop; }
    CHECK(std::chrono::steady_clock::now() - started < 500ms);
  }
}

TEST_CASE("client: no hook runs once the client is gone", "[client][integration]") {
  // The first attempt is queued on a loop that has not run yet; the client is destroyed before
  // it runs. Its before_attempt may capture what died with the client, so it must not be called.
  test_server server(serve("data: x\n\n"));
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  int hooks = 0; // the loop runs on this thread: no lock needed
  auto options = fast_options(server.url("/"));
  options.before_attempt = [&](sse::attempt_request&) { ++hooks; };
  options.on_response = [&](const sse::response_info&) { ++hooks; };
  options.on_failure = [&](const sse::error&, sse::retry_decision proposal) {
    ++hooks;
    return proposal;
  };
  auto client = std::make_unique<sse::client>(options, loop);
  client->start();
  client.reset();
  loop.run();
  CHECK(hooks == 0);
}

TEST_CASE("client: a hook never runs after the destructor returned", "[client][integration]") {
  // The destructor races the loop thread at each point of an attempt (before it, at the
  // response, at the failure): a hook that started before it is waited for, and none starts after.
  test_server server([](connection& c) { c.send_head(500, {}); });
  sse::event_loop loop;
  std::atomic<int> late{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < 200; ++i) {
    auto gone = std::make_shared<std::atomic<bool>>(false);
    const auto hook = [gone, &late, &calls] {
      calls.fetch_add(1);
      if (gone->load()) {
        late.fetch_add(1);
      }
    };
    auto options = fast_options(server.url("/"));
    options.before_attempt = [hook](sse::attempt_request&) { hook(); };
    options.on_response = [hook](const sse::response_info&) { hook(); };
    options.on_failure = [hook](const sse::error&, sse::retry_decision proposal) {
      hook();
      return proposal;
    };
    auto client = std::make_unique<sse::client>(options, loop);
    client->start();
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(i * 10);
    while (std::chrono::steady_clock::now() < spin_until) {
    }
    client.reset();
    gone->store(true);
  }
  // A late hook would run within moments of its client's destructor.
  CHECK_FALSE(wait_until([&] { return late.load() != 0; }, 100ms));
  CHECK(calls.load() > 0);
}

// Not in the Windows build: the test starts its own binary again with posix_spawn and
// /proc/self/exe, and reads the child's status with waitpid.
#ifndef _WIN32
// Run by the next test in a process of its own (hidden from a plain run by "[.]").
TEST_CASE("client: std::exit from a listener (child process)", "[.][exit_child]") {
  const char* url = std::getenv("SSE_TEST_EXIT_URL");
  REQUIRE(url != nullptr);
  sse::client_options options;
  options.url = url;
  // Static, so std::exit() destroys it, then the default loop, on the loop's own thread.
  static sse::client client(options);
  client.on_message([](const sse::event&) { std::exit(3); });
  client.start();
  std::this_thread::sleep_for(10s); // std::exit ends the process long before this
}

TEST_CASE("client: std::exit from a listener ends the process with its status",
          "[client][integration]") {
  // The static destructors then run on the loop's thread, which cannot join itself: this
  // used to end in std::terminate (status 134) instead of the status passed to std::exit.
  test_server server(serve_and_hold("data: x\n\n"));
  const std::string url = "SSE_TEST_EXIT_URL=" + server.url("/");
  std::vector<std::string> env_strings{url};
  for (char** e = environ; *e != nullptr; ++e) {
    env_strings.emplace_back(*e);
  }
  std::vector<char*> env;
  for (auto& e : env_strings) {
    env.push_back(e.data());
  }
  env.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string name = "client: std::exit from a listener (child process)";
  char* argv[] = {self.data(), name.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, env.data()) == 0);
  int status = 0;
  const bool ended = wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 10s);
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  REQUIRE(ended);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
}
#endif

TEST_CASE("client: close before start ends it at once, on_close runs once and start does nothing",
          "[client][integration]") {
  test_server server(serve("data: x\n\n"));
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  sse::client client(fast_options(server.url("/")), loop);
  std::vector<sse::close_reason> closes; // the loop runs on this thread: no lock needed
  client.on_close([&](sse::close_reason r) { closes.push_back(r); });
  client.close();
  CHECK(client.ready_state() == sse::ready_state::closed);
  CHECK(client.close_reason() == sse::close_reason::closed);
  CHECK(client.wait_for(0ms));
  SECTION("and not started") {}
  SECTION("then started") {
    client.start();
  }
  loop.run();
  CHECK(closes == std::vector<sse::close_reason>{sse::close_reason::closed});
  CHECK(client.stats().attempts == 0);
  CHECK(server.requests().empty());
}

TEST_CASE("event_loop: its destructor returns after the running listener, not the whole read",
          "[loop][integration]") {
  // Thousands of events in one read and a slow listener: the loop's thread must notice the
  // shutdown between two events, and report nothing about the transfer it drops.
  test_server server(serve_and_hold(numbered_events(5000)));
  auto loop = std::make_unique<sse::event_loop>();
  sse::client client(fast_options(server.url("/")), *loop);
  std::atomic<int> calls{0};
  std::atomic<int> errors{0};
  client.on_message([&](const sse::event&) {
    calls.fetch_add(1);
    std::this_thread::sleep_for(2ms); // slow user work, not synchronisation
  });
  client.on_error([&](const sse::error&) { errors.fetch_add(1); });
  client.start();
  REQUIRE(wait_until([&] { return calls.load() >= 5; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  loop.reset();
  const auto took = std::chrono::steady_clock::now() - started;
  const int at_destroy = calls.load();
  CHECK(took < 200ms);
  CHECK_FALSE(wait_until([&] { return calls.load() != at_destroy; }, 50ms));
  CHECK(errors.load() == 0);
  CHECK(at_destroy < 5000);
}
