// SPDX-License-Identifier: MIT
// The test support itself: test_server, silent_server, wait_until and recorder, driven by a
// raw-socket client (the library's client is tested with them elsewhere).
#include "support/socket.hpp"
#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::recorder;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

/// A blocking TCP client on 127.0.0.1 whose every read has a deadline.
class raw_client {
public:
  enum class end { eof, reset, timeout, found };

  explicit raw_client(std::uint16_t port) {
    fd_ = sse_test::tcp_socket();
    if (fd_ == sse_test::invalid_socket) {
      throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      sse_test::close_socket(fd_);
      throw std::runtime_error("connect failed");
    }
    sse_test::set_socket_option(fd_, IPPROTO_TCP, TCP_NODELAY, 1);
  }
  ~raw_client() { close(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool send(std::string_view bytes) {
    // Ends: each pass sends bytes or fails.
    while (!bytes.empty()) {
      const auto n = sse_test::send_some(fd_, bytes.data(), bytes.size());
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads until the server ends the connection (or `timeout`); says how it ended.
  end read_all(std::chrono::milliseconds timeout) { return read({}, timeout); }

  /// Reads until everything read so far contains `needle`.
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    return read(needle, timeout) == end::found;
  }

  const std::string& data() const { return data_; }

  void close() {
    if (fd_ != sse_test::invalid_socket) {
      sse_test::close_socket(fd_);
      fd_ = sse_test::invalid_socket;
    }
  }

private:
  end read(std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Ends at the deadline: each poll waits at most until it.
    for (;;) {
      if (!needle.empty() && data_.find(needle) != std::string::npos) {
        return end::found;
      }
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return end::timeout;
      }
      sse_test::poll_entry pfd{fd_, sse_test::poll_in, 0};
      if (sse_test::poll_sockets(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buffer[16384];
      const auto n = sse_test::recv_some(fd_, buffer, sizeof buffer);
      if (n > 0) {
        data_.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        return end::eof;
      } else if (!sse_test::socket_interrupted(sse_test::socket_error())) {
        return end::reset;
      }
    }
  }

  sse_test::socket_t fd_ = sse_test::invalid_socket;
  std::string data_;
};

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

} // namespace

TEST_CASE("test_server: captures method, target, headers and a Content-Length body",
          "[support][integration]") {
  test_server server(sse_test::status_only(204));
  CHECK(server.port() != 0);
  CHECK(server.url("/x") == "http://127.0.0.1:" + std::to_string(server.port()) + "/x");
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()) + "/");

  raw_client client(server.port());
  REQUIRE(client.send("POST /submit?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "X-Custom:   spaced value \t\r\nContent-Length: 11\r\n\r\nhello world"));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  CHECK(client.data() ==
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

  REQUIRE(server.wait_for_requests(1, 5s));
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/submit?x=1");
  CHECK(r.version == "HTTP/1.1");
  CHECK(r.body == "hello world");
  REQUIRE(r.headers.size() == 3);
  CHECK(r.headers[1] == std::pair<std::string, std::string>("X-Custom", "spaced value"));
  CHECK(r.header("x-CUSTOM") == std::optional<std::string>("spaced value"));
  CHECK(r.header("content-length") == std::optional<std::string>("11"));
  CHECK_FALSE(r.header("X-Missing").has_value());
  CHECK(server.connection_count() == 1);
  CHECK(server.handler_errors().empty());
}

TEST_CASE("test_server: de-chunks a chunked request body sent one byte at a time",
          "[support][integration]") {
  test_server server(sse_test::status_only(200, {}, "ok"));
  raw_client client(server.port());
  const std::string request = "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;name=value\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n"
                              "0\r\nX-Trailer: t\r\n\r\n";
  for (const char c : request) {
    REQUIRE(client.send(std::string_view(&c, 1)));
  }
  CHECK(client.read_all(5s) == raw_client::end::eof);
  CHECK(client.data() == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "PUT");
  CHECK(requests[0].body == "hello world0123456789");
}

TEST_CASE("test_server: answers malformed requests with an error and does not record them",
          "[support][integration]") {
  test_server server(sse_test::status_only(200));
  const std::vector<std::pair<std::string, std::string>> cases{
      {"GARBAGE\r\n\r\n", "HTTP/1.1 400 "},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 "},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "HTTP/1.1 400 "},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "HTTP/1.1 400 "},
      {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 501 "},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
       "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "HTTP/1.1 400 "},
  };
  for (const auto& [request, status] : cases) {
    CAPTURE(request);
    raw_client client(server.port());
    REQUIRE(client.send(request));
    CHECK(client.read_all(5s) == raw_client::end::eof);
    CHECK(client.data().rfind(status, 0) == 0);
  }
  CHECK(server.requests().empty());
  CHECK(server.connection_count() == cases.size());
}

TEST_CASE("test_server: a client that leaves mid-request gets no answer and no handler call",
          "[support][integration]") {
  std::atomic<int> calls{0};
  test_server server([&](connection&) { calls.fetch_add(1); });
  raw_client client(server.port());
  REQUIRE(client.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  REQUIRE(wait_until([&] { return server.open_connections() == 1; }, 5s));
  client.close();
  REQUIRE(wait_until([&] { return server.open_connections() == 0; }, 5s));
  CHECK(server.requests().empty());
  CHECK(calls.load() == 0);
}

TEST_CASE("test_server: leading empty lines and HTTP/1.0 are accepted", "[support][integration]") {
  test_server server(sse_test::status_only(204));
  raw_client client(server.port());
  REQUIRE(client.send("\r\nGET /old HTTP/1.0\r\n\r\n"));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == "/old");
  CHECK(requests[0].version == "HTTP/1.0");
}

TEST_CASE("test_server: Expect 100-continue gets the interim response before the body",
          "[support][integration]") {
  test_server server(sse_test::status_only(201));
  raw_client client(server.port());
  REQUIRE(client.send("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  REQUIRE(client.read_until("HTTP/1.1 100 Continue\r\n\r\n", 5s));
  REQUIRE(client.send("12345"));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  CHECK(client.data().find("HTTP/1.1 201 Created\r\n") != std::string::npos);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].body == "12345");
}

TEST_CASE("test_server: canned handlers write exact bytes", "[support][integration]") {
  SECTION("sse_once") {
    test_server server(sse_test::sse_once("data: hi\n\n"));
    raw_client client(server.port());
    REQUIRE(client.send(get("/")));
    CHECK(client.read_all(5s) == raw_client::end::eof);
    CHECK(client.data() == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                           "Connection: close\r\n\r\ndata: hi\n\n");
  }
  SECTION("status_only") {
    test_server server(sse_test::status_only(503, {{"Retry-After", "2"}}, "busy"));
    raw_client client(server.port());
    REQUIRE(client.send(get("/")));
    CHECK(client.read_all(5s) == raw_client::end::eof);
    CHECK(client.data() == "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\n"
                           "Content-Length: 4\r\nConnection: close\r\n\r\nbusy");
  }
}

TEST_CASE("test_server: chunked responses are framed by send_chunk", "[support][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, {{"Content-Type", "text/event-stream"}}, true);
    c.send_chunk("data: a\n\n");
    c.send_chunk(std::string(300, 'x'));
    c.send_chunk("");
    c.close();
  });
  raw_client client(server.port());
  REQUIRE(client.send(get("/")));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  CHECK(client.data() == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                         "9\r\ndata: a\n\n\r\n12c\r\n" +
                             std::string(300, 'x') + "\r\n0\r\n\r\n");
}

TEST_CASE("test_server: abort() resets the connection, close() ends it with FIN",
          "[support][integration]") {
  recorder<bool> sends_after;
  test_server server([&](connection& c) {
    c.send_head(200);
    c.send("data: x\n\n");
    if (c.req().target == "/abort") {
      c.abort();
    } else {
      c.close();
    }
    sends_after.push(c.send("late"));
  });
  {
    raw_client client(server.port());
    REQUIRE(client.send(get("/abort")));
    const auto ended = client.read_all(5s);
    if (sse_test::under_wine()) {
      // Wine 8 closes a socket with SO_LINGER 0 with a FIN, not an RST; Windows resets it.
      CHECK((ended == raw_client::end::reset || ended == raw_client::end::eof));
    } else {
      CHECK(ended == raw_client::end::reset);
    }
  }
  {
    raw_client client(server.port());
    REQUIRE(client.send(get("/close")));
    CHECK(client.read_all(5s) == raw_client::end::eof);
    CHECK(client.data().find("data: x\n\n") != std::string::npos);
  }
  REQUIRE(sends_after.wait_for_size(2, 5s));
  CHECK(sends_after.snapshot() == std::vector<bool>{false, false});
}

TEST_CASE("test_server: wait_closed_by_peer sees the client hang up", "[support][integration]") {
  recorder<bool> closed;
  test_server server([&](connection& c) {
    c.send_head(200);
    c.send("data: x\n\n");
    closed.push(c.wait_closed_by_peer(10s));
  });
  raw_client client(server.port());
  REQUIRE(client.send(get("/")));
  REQUIRE(client.read_until("data: x\n\n", 5s));
  CHECK(server.open_connections() == 1);
  REQUIRE(client.send("bytes after the request are read and dropped"));
  CHECK(closed.size() == 0);
  client.close();
  REQUIRE(closed.wait_for_size(1, 5s));
  CHECK(closed.snapshot()[0]);
  REQUIRE(wait_until([&] { return server.open_connections() == 0; }, 5s));
  CHECK(server.connection_count() == 1);
}

TEST_CASE("test_server: sleep_for and wait_closed_by_peer time out without a stop",
          "[support][integration]") {
  recorder<bool> results;
  test_server server([&](connection& c) {
    results.push(c.sleep_for(1ms));
    results.push(c.wait_closed_by_peer(1ms));
    results.push(c.stopping());
    c.send_head(204, {});
  });
  raw_client client(server.port());
  REQUIRE(client.send(get("/")));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  REQUIRE(results.wait_for_size(3, 5s));
  CHECK(results.snapshot() == std::vector<bool>{true, false, false});
}

TEST_CASE("test_server: stop() is prompt while handlers sleep, wait or are blocked sending",
          "[support][integration]") {
  recorder<std::string> outcomes;
  std::atomic<std::size_t> flooded{0};
  auto server = std::make_unique<test_server>([&](connection& c) {
    c.send_head(200);
    const auto& target = c.req().target;
    if (target == "/sleep") {
      outcomes.push(c.sleep_for(60s) ? "sleep: full" : "sleep: interrupted");
    } else if (target == "/wait") {
      outcomes.push(c.wait_closed_by_peer(60s) ? "wait: closed" : "wait: interrupted");
    } else {
      const std::string block(64 * 1024, 'x');
      // The client never reads, so the socket fills and send() blocks until stop().
      for (int i = 0; i < 100000 && c.send(block); ++i) {
        flooded.fetch_add(block.size());
      }
      outcomes.push(c.stopping() ? "flood: stopped" : "flood: ended");
    }
  });
  std::vector<std::unique_ptr<raw_client>> clients;
  for (const char* target : {"/sleep", "/wait", "/flood"}) {
    clients.push_back(std::make_unique<raw_client>(server->port()));
    REQUIRE(clients.back()->send(get(target)));
  }
  REQUIRE(server->wait_for_requests(3, 5s));
  REQUIRE(wait_until([&] { return flooded.load() > 0; }, 5s));
  CHECK(server->open_connections() == 3);

  const auto start = std::chrono::steady_clock::now();
  server->stop();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 500ms);
  CHECK(server->open_connections() == 0);
  server->stop(); // idempotent
  server.reset();

  auto seen = outcomes.snapshot();
  std::sort(seen.begin(), seen.end());
  CHECK(seen ==
        std::vector<std::string>{"flood: stopped", "sleep: interrupted", "wait: interrupted"});
  for (auto& client : clients) { // each sees its connection end
    CHECK(client->read_all(5s) != raw_client::end::timeout);
  }
}

TEST_CASE("test_server: serves 200 concurrent streaming connections", "[support][integration]") {
  constexpr std::size_t count = 200;
  test_server server([](connection& c) {
    c.send_head(200);
    c.send("data: " + c.req().target.substr(1) + "\n\n");
    c.wait_closed_by_peer(30s);
  });
  std::vector<std::unique_ptr<raw_client>> clients;
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<raw_client>(server.port()));
    REQUIRE(clients.back()->send(get("/" + std::to_string(i))));
  }
  for (std::size_t i = 0; i < count; ++i) {
    REQUIRE(clients[i]->read_until("data: " + std::to_string(i) + "\n\n", 10s));
  }
  CHECK(server.connection_count() == count);
  CHECK(server.open_connections() == count);
  CHECK(server.requests().size() == count);
  clients.clear();
  REQUIRE(wait_until([&] { return server.open_connections() == 0; }, 10s));

  // A second wave, served while the first wave's finished threads are being joined.
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<raw_client>(server.port()));
    REQUIRE(clients.back()->send(get("/" + std::to_string(i))));
  }
  for (std::size_t i = 0; i < count; ++i) {
    REQUIRE(clients[i]->read_until("data: " + std::to_string(i) + "\n\n", 10s));
  }
  CHECK(server.connection_count() == 2 * count);
  clients.clear();
  REQUIRE(wait_until([&] { return server.open_connections() == 0; }, 10s));
  CHECK(server.handler_errors().empty());
}

TEST_CASE("test_server: an exception escaping the handler is recorded and the connection closed",
          "[support][integration]") {
  test_server server([](connection& c) {
    c.send_head(200);
    throw std::runtime_error("boom");
  });
  raw_client client(server.port());
  REQUIRE(client.send(get("/")));
  CHECK(client.read_all(5s) == raw_client::end::eof);
  REQUIRE(wait_until([&] { return server.handler_errors().size() == 1; }, 5s));
  CHECK(server.handler_errors()[0] == "boom");
}

TEST_CASE("test_server: requests are recorded in arrival order", "[support][integration]") {
  test_server server(sse_test::status_only(204));
  for (const char* target : {"/1", "/2", "/3"}) {
    raw_client client(server.port());
    REQUIRE(client.send(get(target)));
    REQUIRE(client.read_all(5s) == raw_client::end::eof);
  }
  REQUIRE(server.wait_for_requests(3, 5s));
  CHECK_FALSE(server.wait_for_requests(4, 10ms));
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].target == "/1");
  CHECK(requests[1].target == "/2");
  CHECK(requests[2].target == "/3");
}

TEST_CASE("silent_server: completes the handshake but never answers", "[support][integration]") {
  sse_test::silent_server server;
  CHECK(server.port() != 0);
  CHECK(server.url("/a") == "http://127.0.0.1:" + std::to_string(server.port()) + "/a");
  raw_client client(server.port()); // connect() succeeds: the kernel's backlog accepted it
  REQUIRE(client.send(get("/")));
  // Nothing may arrive; this is the one wait that must run to its end.
  CHECK(client.read_all(200ms) == raw_client::end::timeout);
  CHECK(client.data().empty());
}

TEST_CASE("wait_until: true as soon as the predicate holds, false at the deadline", "[support]") {
  std::atomic<int> n{0};
  std::thread producer([&] {
    for (int i = 0; i < 3; ++i) {
      n.fetch_add(1);
    }
  });
  CHECK(wait_until([&] { return n.load() >= 3; }, 5s));
  producer.join();

  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(wait_until([] { return false; }, 20ms));
  CHECK(std::chrono::steady_clock::now() - start >= 20ms);
}

TEST_CASE("recorder: collects values pushed from several threads", "[support]") {
  recorder<int> values;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&values, t] {
      for (int i = 0; i < 250; ++i) {
        values.push(t * 1000 + i);
      }
    });
  }
  REQUIRE(values.wait_for_size(1000, 5s));
  for (auto& t : threads) {
    t.join();
  }
  auto all = values.snapshot();
  CHECK(all.size() == 1000);
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK_FALSE(values.wait_for_size(1001, 10ms));
  values.clear();
  CHECK(values.size() == 0);
}
