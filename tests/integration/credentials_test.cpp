// SPDX-License-Identifier: MIT
// Cookies and HTTP authentication against real servers on 127.0.0.1, on libcurl's machinery:
// kept across reconnects, never sent to another host.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::stream_headers;
using sse_test::test_server;

namespace {

std::string md5_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_md5(), nullptr);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

// The parameters of `Digest k=v, k="v", ...` (quotes removed, no escapes: enough for libcurl's).
std::map<std::string, std::string> digest_params(std::string_view header) {
  std::map<std::string, std::string> params;
  if (header.rfind("Digest ", 0) != 0) {
    return params;
  }
  header.remove_prefix(7);
  while (!header.empty()) { // each pass takes one parameter off the front
    while (!header.empty() && (header.front() == ' ' || header.front() == ',')) {
      header.remove_prefix(1);
    }
    const auto eq = header.find('=');
    if (eq == std::string_view::npos) {
      break;
    }
    const std::string key(header.substr(0, eq));
    header.remove_prefix(eq + 1);
    std::string value;
    if (!header.empty() && header.front() == '"') {
      const auto close = header.find('"', 1);
      value = std::string(header.substr(1, close - 1));
      header.remove_prefix(close == std::string_view::npos ? header.size() : close + 1);
    } else {
      const auto comma = header.find(',');
      value = std::string(header.substr(0, comma));
      header.remove_prefix(comma == std::string_view::npos ? header.size() : comma);
    }
    params[key] = value;
  }
  return params;
}

// RFC 7616 with qop=auth and MD5, a fixed nonce: the client's answer for user:password.
bool digest_valid(const sse_test::request& req, const std::string& user,
                  const std::string& password) {
  auto p = digest_params(req.header("Authorization").value_or(""));
  if (p["username"] != user || p["realm"] != "sse" || p["nonce"] != "fixed-nonce-1" ||
      p["uri"] != req.target || p["qop"] != "auth") {
    return false;
  }
  const std::string ha1 = md5_hex(user + ":sse:" + password);
  const std::string ha2 = md5_hex(req.method + ":" + p["uri"]);
  return p["response"] ==
         md5_hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2);
}

// Head and body in one write: the client keeps only the body bytes that come with the head.
void reject(connection& c, const std::string& challenge) {
  c.send("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " + challenge +
         "\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
         R"({"error":"invalid api key"})");
  c.close();
}

void accept_stream(connection& c) {
  c.send_head(200, stream_headers);
  c.send("data: welcome\n\n");
  c.wait_closed_by_peer(10s);
}

// A server that answers with a stream only to requests `ok` accepts, else a 401 challenge.
template <typename Ok>
test_server::handler guarded(Ok ok, std::string challenge) {
  return [ok, challenge](connection& c) {
    if (ok(c.req())) {
      accept_stream(c);
    } else {
      reject(c, challenge);
    }
  };
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sse-credentials-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

} // namespace

TEST_CASE("credentials: a cookie set by a response is sent on the reconnect",
          "[client][cookies][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    if (++n == 1) {
      c.send_head(200, {{"Content-Type", "text/event-stream"},
                        {"Set-Cookie", "session=abc123; Path=/; HttpOnly"}});
      c.send("data: first\n\n");
      c.close(); // the client reconnects
      return;
    }
    if (c.req().header("Cookie").value_or("") != "session=abc123") {
      c.send_head(403, {{"Content-Length", "0"}});
      c.close();
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: second\n\n");
    c.wait_closed_by_peer(10s);
  });
  auto options = fast_options(server.url("/feed"));
  SECTION("with a jar of its own") {
    options.cookies.emplace();
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.events.wait_for_size(2, 5s));
    CHECK(c.events.snapshot()[1].data == "second");
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK_FALSE(requests[0].header("Cookie"));
    CHECK(requests[1].header("Cookie") == "session=abc123");
    const auto cookies = options.cookies->cookies(); // the client holds a copy of the same jar
    REQUIRE(cookies.size() == 1);
    CHECK(cookies[0].find("session\tabc123") != std::string::npos);
  }
  SECTION("off by default: Set-Cookie is ignored") {
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
    REQUIRE(server.requests().size() == 2);
    CHECK_FALSE(server.requests()[1].header("Cookie"));
  }
}

TEST_CASE("credentials: clients given copies of one jar share its cookies, saved and loaded",
          "[client][cookies][integration]") {
  test_server server([](connection& c) {
    if (c.req().target == "/login") {
      c.send_head(200, {{"Content-Type", "text/event-stream"}, {"Set-Cookie", "token=xyz"}});
      c.send("data: in\n\n");
      c.close();
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: " + c.req().header("Cookie").value_or("none") + "\n\n");
    c.close();
  });
  sse::cookie_jar jar;
  auto login = fast_options(server.url("/login"));
  login.cookies = jar;
  login.reconnect_on_end = false;
  {
    sse::client client(login);
    client.start();
    REQUIRE(client.wait_for(5s));
  }
  const std::string file = temp_path("jar.txt");
  jar.save(file);
  const sse::cookie_jar loaded = sse::cookie_jar::load(file);
  std::remove(file.c_str());
  CHECK(loaded.cookies() == jar.cookies());

  // Another loop (thread) and a jar loaded from the file: the cookie goes along.
  sse::event_loop other_loop;
  auto feed = fast_options(server.url("/feed"));
  feed.cookies = loaded;
  feed.reconnect_on_end = false;
  collected c;
  sse::client client(feed, other_loop);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  REQUIRE(c.events.size() == 1);
  CHECK(c.events.snapshot()[0].data == "token=xyz");
}

TEST_CASE("credentials: one jar used by clients on two loops and read from a third thread",
          "[client][cookies][integration]") {
  std::atomic<int> served{0};
  test_server server([&](connection& c) {
    const int n = ++served;
    c.send_head(200, {{"Content-Type", "text/event-stream"},
                      {"Set-Cookie", "n" + std::to_string(n % 8) + "=" + std::to_string(n)}});
    c.send("data: " + c.req().header("Cookie").value_or("") + "\n\n");
    c.close(); // every client reconnects at once
  });
  sse::cookie_jar jar;
  sse::event_loop loop_a;
  sse::event_loop loop_b;
  auto options = fast_options(server.url("/"));
  options.cookies = jar;
  std::atomic<int> events{0};
  sse::client a1(options, loop_a);
  sse::client a2(options, loop_a);
  sse::client b1(options, loop_b);
  sse::client b2(options, loop_b);
  for (sse::client* client : {&a1, &a2, &b1, &b2}) {
    client->on_any([&](const sse::event&) { ++events; });
    client->start();
  }
  std::size_t largest = 0;
  // Reads the jar while the four clients write it; ends at the deadline at the latest.
  const bool enough = sse_test::wait_until(
      [&] {
        largest = std::max(largest, jar.cookies().size());
        return events.load() >= 400;
      },
      20s);
  for (sse::client* client : {&a1, &a2, &b1, &b2}) {
    client->close();
  }
  CHECK(enough);
  CHECK(jar.cookies().size() == 8);
  CHECK(largest <= 8);
}

TEST_CASE("credentials: cookie_jar::add takes Netscape lines only", "[cookies]") {
  sse::cookie_jar jar;
  jar.add("127.0.0.1\tFALSE\t/\tFALSE\t0\tname\tvalue");
  REQUIRE(jar.cookies().size() == 1);
  CHECK_THROWS_AS(jar.add("name=value"), sse::usage_error);
  jar.clear();
  CHECK(jar.cookies().empty());
  CHECK_THROWS_AS(sse::cookie_jar::load(temp_path("missing")), std::runtime_error);
}

TEST_CASE("credentials: basic authentication", "[client][auth][integration]") {
  test_server server(guarded(
      [](const sse_test::request& r) {
        return r.header("Authorization") == "Basic dXNlcjpwYXNz"; // user:pass
      },
      "Basic realm=\"sse\""));
  auto options = fast_options(server.url("/"));
  options.auth.username = "user";
  SECTION("right password: open at the first request") {
    options.auth.password = "pass";
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.events.wait_for_size(1, 5s));
    CHECK(server.requests().size() == 1);
  }
  SECTION("wrong password: the 401 ends the stream, its body in the error") {
    options.auth.password = "wrong";
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors.snapshot()[0].http_status == 401);
    CHECK(c.errors.snapshot()[0].body == R"({"error":"invalid api key"})");
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("credentials: basic authentication from a .netrc file", "[client][auth][integration]") {
  test_server server(guarded(
      [](const sse_test::request& r) { return r.header("Authorization") == "Basic dXNlcjpwYXNz"; },
      "Basic realm=\"sse\""));
  const std::string netrc = temp_path("netrc");
  std::ofstream(netrc) << "machine 127.0.0.1 login user password pass\n";
  auto options = fast_options(server.url("/"));
  options.auth.netrc = true;
  options.auth.netrc_file = netrc;
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  const bool opened = c.events.wait_for_size(1, 5s);
  std::remove(netrc.c_str());
  CHECK(opened);
}

TEST_CASE("credentials: digest authentication answers the server's challenge",
          "[client][auth][integration]") {
  const std::string challenge =
      R"(Digest realm="sse", nonce="fixed-nonce-1", qop="auth", algorithm=MD5)";
  test_server server(guarded(
      [](const sse_test::request& r) { return digest_valid(r, "user", "pass"); }, challenge));
  auto options = fast_options(server.url("/stream?x=1"));
  options.method = "POST";
  options.body = "{}";
  options.auth.username = "user";
  options.auth.scheme = sse::auth_scheme::digest;
  SECTION("right password: the challenge, then the stream") {
    options.auth.password = "pass";
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.events.wait_for_size(1, 5s));
    CHECK(c.errors.size() == 0);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK_FALSE(requests[0].header("Authorization"));
    CHECK(requests[0].body.empty()); // libcurl holds the body back until it can authenticate
    CHECK(requests[1].body == "{}");
  }
  SECTION("wrong password: the second 401 ends the stream") {
    options.auth.password = "wrong";
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors.snapshot()[0].http_status == 401);
    CHECK(server.requests().size() == 2);
  }
}

TEST_CASE("credentials: a bearer token", "[client][auth][integration]") {
  test_server server(guarded(
      [](const sse_test::request& r) { return r.header("Authorization") == "Bearer tok-123"; },
      "Bearer"));
  auto options = fast_options(server.url("/"));
  options.auth.bearer_token = "tok-123";
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("credentials: a redirect to another host carries no Authorization and no cookie",
          "[client][auth][cookies][integration]") {
  test_server target([](connection& c) { accept_stream(c); });
  const std::string elsewhere = "http://localhost:" + std::to_string(target.port()) + "/";
  test_server origin([&](connection& c) {
    c.send_head(302, {{"Location", elsewhere},
                      {"Set-Cookie", "origin_session=secret"},
                      {"Content-Length", "0"}});
    c.close();
  });
  auto options = fast_options(origin.url("/"));
  options.cookies.emplace();
  options.cookies->add("127.0.0.1\tFALSE\t/\tFALSE\t0\tpreset\t1");
  std::string expected_auth;
  SECTION("bearer") {
    options.auth.bearer_token = "tok-123";
    expected_auth = "Bearer tok-123";
  }
  SECTION("basic") {
    options.auth.username = "user";
    options.auth.password = "pass";
    expected_auth = "Basic dXNlcjpwYXNz";
  }
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.events.wait_for_size(1, 5s));
  const auto first = origin.requests();
  REQUIRE(first.size() == 1);
  CHECK(first[0].header("Authorization") == expected_auth);
  CHECK(first[0].header("Cookie") == "preset=1");
  const auto second = target.requests();
  REQUIRE(second.size() == 1);
  CHECK_FALSE(second[0].header("Authorization"));
  CHECK_FALSE(second[0].header("Cookie"));
}

TEST_CASE("credentials: bearer with username, or a line break, is a usage error", "[auth]") {
  auto options = fast_options("http://127.0.0.1:1/");
  options.auth.bearer_token = "t";
  options.auth.username = "u";
  CHECK_THROWS_AS(sse::client(options), sse::usage_error);
  options.auth.username.clear();
  options.auth.bearer_token = "t\r\nX-Injected: 1";
  CHECK_THROWS_AS(sse::client(options), sse::usage_error);
}
