// SPDX-License-Identifier: MIT
// HTTP/2: many streams on one loop to one https host share one connection. A local nginx (TLS +
// HTTP/2, a certificate made at test time) proxies to a loopback SSE backend, tells it each
// request's protocol and client connection, and counts accepted connections in stub_status.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/nginx.hpp"
#include <catch2/catch.hpp>
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sse_test::wait_until;

namespace {

constexpr std::size_t stream_count = 20;

// Each stream gets two events; the second echoes its request target, so a stream that got
// another's events shows. Then the backend holds the stream open until the client goes.
void serve_stream(sse_test::connection& c) {
  if (c.send_head(200) && c.send("id: 1\ndata: hello\n\nid: 2\ndata: " + c.req().target + "\n\n")) {
    c.wait_closed_by_peer(60s);
  }
}

struct streams {
  // Declared in the order they must be destroyed in reverse: clients go first.
  sse_test::test_server backend{serve_stream};
  sse_test::nginx_proxy nginx{backend.port()};
  sse::event_loop loop;
  std::vector<std::unique_ptr<sse_test::collected>> seen;
  std::vector<std::unique_ptr<sse::client>> clients;

  // Starts streams [from, to) to `base` + "?i=N" with `options` (url replaced).
  void start(std::size_t from, std::size_t to, const std::string& base,
             sse::client_options options) {
    for (std::size_t i = from; i < to; ++i) {
      options.url = base + "?i=" + std::to_string(i);
      seen.push_back(std::make_unique<sse_test::collected>());
      clients.push_back(std::make_unique<sse::client>(options, loop));
      seen.back()->attach(*clients.back());
    }
    for (std::size_t i = from; i < to; ++i) {
      clients[i]->start();
    }
  }

  bool all_got_their_events() const {
    return wait_until(
        [&] {
          for (const auto& s : seen) {
            if (s->events.size() < 2) {
              return false;
            }
          }
          return true;
        },
        20s);
  }

  // Per stream: events, errors (with the first message) and state, for failure reports.
  std::string describe() const {
    std::string text;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      const auto errors = seen[i]->errors.snapshot();
      text += "stream " + std::to_string(i) + ": " + std::to_string(seen[i]->events.size()) +
              " events, " + std::to_string(errors.size()) + " errors" +
              (errors.empty() ? "" : " (" + errors.front().message + ")") + ", state " +
              std::to_string(static_cast<int>(clients[i]->ready_state())) + "\n";
    }
    return text + "backend requests: " + std::to_string(backend.requests().size());
  }

  // What the backend saw of each proxied request: the client's protocol and connection.
  std::set<std::string> seen_header(const char* name) const {
    std::set<std::string> values;
    for (const auto& r : backend.requests()) {
      values.insert(r.header(name).value_or("(none)"));
    }
    return values;
  }
};

void check_events(const streams& s) {
  for (std::size_t i = 0; i < s.seen.size(); ++i) {
    CAPTURE(i);
    const auto events = s.seen[i]->events.snapshot();
    REQUIRE(events.size() == 2);
    CHECK(events[0] == sse::event{"message", "hello", "1"});
    CHECK(events[1] == sse::event{"message", "/?i=" + std::to_string(i), "2"});
    CHECK(s.seen[i]->errors.size() == 0);
  }
}

// Waits for every stream's events; on failure says what each stream saw.
#define REQUIRE_EVENTS(s)                                                                          \
  do {                                                                                             \
    const bool all_events = (s).all_got_their_events();                                            \
    INFO((s).describe());                                                                          \
    REQUIRE(all_events);                                                                           \
  } while (false)

sse::client_options tls_options(const streams& s) {
  sse::client_options options = sse_test::fast_options("");
  options.tls.ca_file = s.nginx.ca_file();
  return options;
}

} // namespace

TEST_CASE("http2: streams to one https host share one connection", "[http2][integration]") {
  const auto version = GENERATE(sse::http_version::automatic, sse::http_version::http2);
  CAPTURE(static_cast<int>(version));
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  auto options = tls_options(s);
  options.http_version = version;
  // Half started together (they wait for the first connection), half once it is up (they
  // join it).
  s.start(0, stream_count / 2, s.nginx.https_url(), options);
  REQUIRE_EVENTS(s);
  s.start(stream_count / 2, stream_count, s.nginx.https_url(), options);
  REQUIRE_EVENTS(s);
  check_events(s);
  // Less this status request's own connection.
  CHECK(s.nginx.status().accepts - accepts_before - 1 == 1);
  REQUIRE(s.backend.requests().size() == stream_count);
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/2.0"});
  CHECK(s.seen_header("X-Client-Connection").size() == 1);
}

TEST_CASE("http2: many streams started together fill one connection after another",
          "[http2][integration]") {
  // libcurl puts at most 100 streams on a connection; without the loop's per-host slots, 250
  // streams started at once opened a connection for each beyond the first 100.
  constexpr std::size_t many = 250;
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  s.start(0, many, s.nginx.https_url(), tls_options(s));
  REQUIRE_EVENTS(s);
  check_events(s);
  const long connections = s.nginx.status().accepts - accepts_before - 1;
  CHECK(connections >= 3);
  CHECK(connections <= 4);
  REQUIRE(s.backend.requests().size() == many);
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/2.0"});
}

TEST_CASE("http2: streams closed while they wait for their wave hold up no other",
          "[http2][integration]") {
  constexpr std::size_t many = 150;
  streams s;
  s.start(0, many, s.nginx.https_url(), tls_options(s));
  // Most of these are still queued behind the first wave's leader.
  for (std::size_t i = 100; i < many; i += 2) {
    s.clients[i]->close();
  }
  REQUIRE(wait_until(
      [&] {
        for (std::size_t i = 0; i < many; ++i) {
          if ((i < 100 || i % 2 == 1) && s.seen[i]->events.size() < 2) {
            return false;
          }
        }
        return true;
      },
      20s));
  for (std::size_t i = 100; i < many; i += 2) {
    CHECK(s.clients[i]->ready_state() == sse::ready_state::closed);
  }
}

TEST_CASE("http2: streams to an https host that refuses connections all fail, none stall",
          "[http2][integration]") {
  // The leader of each wave fails at once; the next wave must start all the same.
  sse::event_loop loop;
  auto options =
      sse_test::fast_options("https://127.0.0.1:" + std::to_string(sse_test::unused_port()) + "/");
  options.reconnect.max_attempts = 1;
  std::vector<std::unique_ptr<sse::client>> clients;
  for (int i = 0; i < 250; ++i) {
    clients.push_back(std::make_unique<sse::client>(options, loop));
    clients.back()->start();
  }
  CHECK(wait_until(
      [&] {
        for (const auto& c : clients) {
          if (c->ready_state() != sse::ready_state::closed) {
            return false;
          }
        }
        return true;
      },
      20s));
  for (const auto& c : clients) {
    CHECK(c->close_reason() == sse::close_reason::gave_up);
  }
}

TEST_CASE("http2: with multiplex false each stream has a connection of its own",
          "[http2][integration]") {
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  auto options = tls_options(s);
  options.multiplex = false;
  s.start(0, stream_count / 2, s.nginx.https_url(), options);
  REQUIRE_EVENTS(s);
  s.start(stream_count / 2, stream_count, s.nginx.https_url(), options); // none joins
  REQUIRE_EVENTS(s);
  check_events(s);
  CHECK(s.nginx.status().accepts - accepts_before - 1 == static_cast<long>(stream_count));
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/2.0"});
  CHECK(s.seen_header("X-Client-Connection").size() == stream_count);
}

TEST_CASE("http2: http1_1 asks for HTTP/1.1 over TLS, one connection per stream",
          "[http2][integration]") {
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  auto options = tls_options(s);
  options.http_version = sse::http_version::http1_1;
  s.start(0, stream_count, s.nginx.https_url(), options);
  REQUIRE_EVENTS(s);
  check_events(s);
  CHECK(s.nginx.status().accepts - accepts_before - 1 == static_cast<long>(stream_count));
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/1.1"});
}

TEST_CASE("http2: streams waiting to share an https connection without HTTP/2 each get one",
          "[http2][integration]") {
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  s.start(0, stream_count, s.nginx.https_http1_url(), tls_options(s));
  REQUIRE_EVENTS(s);
  check_events(s);
  CHECK(s.nginx.status().accepts - accepts_before - 1 == static_cast<long>(stream_count));
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/1.1"});
}

TEST_CASE("http2: prior knowledge speaks HTTP/2 in cleartext, and no stream waits",
          "[http2][integration]") {
  // In cleartext no attempt waits for a connection to share (libcurl 7.88 would not wake the
  // waiters while the first stream lasts), and before libcurl 8.0 none joins one either (the
  // second stream on a cleartext HTTP/2 connection failed with a framing error there). Half are
  // started once the first connection is up, when joining would be tried.
  streams s;
  const long accepts_before = s.nginx.status().accepts;
  auto options = sse_test::fast_options("");
  options.http_version = sse::http_version::http2_prior_knowledge;
  s.start(0, stream_count / 2, s.nginx.h2c_url(), options);
  REQUIRE_EVENTS(s);
  s.start(stream_count / 2, stream_count, s.nginx.h2c_url(), options);
  REQUIRE_EVENTS(s);
  check_events(s);
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"HTTP/2.0"});
  if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000) {
    CHECK(s.nginx.status().accepts - accepts_before - 1 == static_cast<long>(stream_count));
  }
}

TEST_CASE("http2: multiplex on does not make cleartext HTTP/1.1 streams wait",
          "[http2][integration]") {
  // Straight to the backend, without nginx: every stream its own connection, all open at once.
  streams s;
  REQUIRE(sse::client_options{}.multiplex);
  s.start(0, stream_count, s.backend.url("/"), sse_test::fast_options(""));
  REQUIRE_EVENTS(s);
  check_events(s);
  CHECK(s.backend.connection_count() == stream_count);
  CHECK(s.seen_header("X-Client-Protocol") == std::set<std::string>{"(none)"});
}

TEST_CASE("http2: sequential one-shot POST streams on one loop reuse one connection",
          "[http2][one_shot][integration][issue-22]") {
  // A chat client's pattern: each prompt a one-shot POST, started once the previous answer has
  // ended, to one https host, on one loop with the default options. nginx answers /once itself
  // (two events, then the end) and logs each request's client connection.
  constexpr std::size_t requests = 5;
  streams s;
  std::string url;
  std::string protocol;
  SECTION("HTTP/2") {
    url = s.nginx.https_url("/once");
    protocol = "HTTP/2.0";
  }
  SECTION("HTTP/1.1 keep-alive") {
    url = s.nginx.https_http1_url("/once");
    protocol = "HTTP/1.1";
  }
  sse::client_options options;
  options.url = url;
  options.tls.ca_file = s.nginx.ca_file();
  options.one_shot = true;
  options.method = "POST";
  options.body = R"({"prompt":"hello"})";
  options.headers = {{"Content-Type", "application/json"}};
  for (std::size_t i = 0; i < requests; ++i) {
    sse_test::collected seen;
    sse::client client(options, s.loop);
    seen.attach(client);
    client.start();
    REQUIRE(seen.closes.wait_for_size(1, 10s));
    CHECK(seen.closes.snapshot()[0] == sse::close_reason::server_ended);
    CHECK(seen.events.size() == 2);
  }
  // nginx writes a request's line after its answer went out: wait for all of them.
  std::vector<std::string> lines;
  REQUIRE(wait_until(
      [&] {
        lines.clear();
        std::ifstream log(s.nginx.once_log());
        for (std::string line; std::getline(log, line);) {
          lines.push_back(line);
        }
        return lines.size() >= requests;
      },
      5s));
  std::set<std::string> connections;
  for (const auto& line : lines) {
    INFO(line);
    std::istringstream fields(line);
    std::string connection;
    std::string on_connection;
    std::string reused;
    std::string seen_protocol;
    std::string method;
    fields >> connection >> on_connection >> reused >> seen_protocol >> method;
    connections.insert(connection);
    CHECK(seen_protocol == protocol);
    CHECK(method == "POST");
  }
  CHECK(lines.size() == requests);
  CHECK(connections.size() == 1);
}

TEST_CASE("http2: a paused stream holds only itself; its connection's other stream goes on",
          "[http2][pause][integration][issue-23]") {
  // /big: 48 MiB of 1 KiB events as fast as they are taken; /small: an event every 10 ms.
  constexpr std::uint64_t big_events = 48 * 1024;
  std::atomic<std::uint64_t> big_written{0};
  sse_test::test_server backend([&](sse_test::connection& c) {
    if (!c.send_head(200)) {
      return;
    }
    if (c.req().target == "/big") {
      const std::string payload(1024, 'x');
      std::string batch;
      for (std::uint64_t i = 0; i < big_events; i += 16) {
        batch.clear();
        for (std::uint64_t j = i; j < i + 16; ++j) {
          batch += "id: " + std::to_string(j) + "\ndata: " + payload + "\n\n";
        }
        if (!c.send(batch)) {
          return;
        }
        big_written.fetch_add(batch.size());
      }
      c.wait_closed_by_peer(60s);
      return;
    }
    for (int i = 0; i < 6000 && c.sleep_for(10ms); ++i) {
      if (!c.send("data: tick\n\n")) {
        return;
      }
    }
  });
  sse_test::nginx_proxy nginx(backend.port());
  sse::event_loop loop;
  auto options = sse_test::fast_options(nginx.https_url("/big"));
  options.tls.ca_file = nginx.ca_file();
  sse::client big(options, loop);
  options.url = nginx.https_url("/small");
  sse::client small(options, loop);
  std::vector<std::uint64_t> big_ids; // loop thread, then this one once all came
  big_ids.reserve(big_events);
  std::atomic<std::uint64_t> big_count{0};
  std::atomic<std::uint64_t> small_count{0};
  big.on_message([&](const sse::event& e) {
    big_ids.push_back(std::stoull(e.id));
    if (big_count.fetch_add(1) == 0) {
      big.pause();
    }
  });
  small.on_message([&](const sse::event&) { small_count.fetch_add(1); });
  big.start();
  small.start();
  REQUIRE(wait_until([&] { return big_count.load() > 0 && small_count.load() > 0; }, 20s));

  // The server's writes for /big stop: what HTTP/2 flow control lets through (libcurl 7.88
  // grants a stream 32 MiB, which it keeps for the paused transfer) and nginx's buffers.
  // Measured: 35.4 to 36.1 MiB of the 48.
  std::uint64_t last = big_written.load();
  auto since = std::chrono::steady_clock::now();
  REQUIRE(wait_until(
      [&] {
        const auto now = big_written.load();
        if (now != last) {
          last = now;
          since = std::chrono::steady_clock::now();
        }
        return std::chrono::steady_clock::now() - since >= 500ms;
      },
      30s));
  const auto held_big = big_count.load();
  CAPTURE(last);
  CHECK(last < 44 * 1024 * 1024);
  // Meanwhile the other stream on the same connection goes on.
  const auto small_before = small_count.load();
  CHECK(wait_until([&] { return small_count.load() >= small_before + 20; }, 10s));
  CHECK(big_count.load() == held_big);
  CHECK(big.stats().opens == 1);
  CHECK(small.stats().opens == 1);
  std::set<std::string> connections;
  std::set<std::string> protocols;
  for (const auto& r : backend.requests()) {
    connections.insert(r.header("X-Client-Connection").value_or("(none)"));
    protocols.insert(r.header("X-Client-Protocol").value_or("(none)"));
  }
  CHECK(connections.size() == 1);
  CHECK(protocols == std::set<std::string>{"HTTP/2.0"});

  big.resume();
  REQUIRE(wait_until([&] { return big_count.load() == big_events; }, 60s));
  bool in_order = true;
  for (std::uint64_t i = 0; i < big_events; ++i) {
    in_order = in_order && big_ids[i] == i;
  }
  CHECK(in_order);
}
