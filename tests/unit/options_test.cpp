// SPDX-License-Identifier: MIT
// client_options validation: every mistake is reported when the client is built, by field name.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

namespace {
sse::client_options valid() {
  sse::client_options options;
  options.url = "https://example.test/stream";
  return options;
}
} // namespace

TEST_CASE("options: a plain https URL is valid", "[options]") {
  CHECK_NOTHROW(sse::detail::validate(valid()));
  auto options = valid();
  options.url = "HTTP://127.0.0.1:8080/events?x=1";
  CHECK_NOTHROW(sse::detail::validate(options));
}

TEST_CASE("options: bad URLs name options.url", "[options]") {
  for (const char* url : {"", "example.test/stream", "ftp://example.test/", "file:///etc/passwd",
                          "http://", "http:///path", "http://exa mple.test/"}) {
    auto options = valid();
    options.url = url;
    CAPTURE(url);
    CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.url: "));
  }
  auto options = valid();
  options.url = "gopher://example.test/";
  CHECK_THROWS_WITH(sse::detail::validate(options),
                    "options.url: scheme must be http or https, got \"gopher\"");
}

TEST_CASE("options: method, headers and ids cannot smuggle protocol", "[options]") {
  auto options = valid();
  options.method = "GET /x HTTP/1.1\r\n";
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.method: "));
  options = valid();
  options.headers = {{"X-Ok", "fine"}, {"X-Bad", "a\nb"}};
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.headers: "));
  options = valid();
  options.headers = {{"", "x"}};
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.headers: "));
  options = valid();
  options.last_event_id = "1\r\nX: y";
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.last_event_id: "));
}

TEST_CASE("options: timeouts and sizes must be positive", "[options]") {
  auto options = valid();
  options.connect_timeout = 0ms;
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.connect_timeout: "));
  options = valid();
  options.idle_timeout = -5ms;
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.idle_timeout: "));
  options = valid();
  options.idle_timeout.reset(); // no idle timeout is allowed
  CHECK_NOTHROW(sse::detail::validate(options));
  options.max_event_size = 0;
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::StartsWith("options.max_event_size: "));
}

TEST_CASE("options: reconnect settings are validated too", "[options]") {
  auto options = valid();
  options.reconnect.jitter = 1.5;
  CHECK_THROWS_WITH(sse::detail::validate(options), Catch::Contains("jitter"));
}

TEST_CASE("options: http_version must be one of its enumerators; multiplex is on by default",
          "[options][http2]") {
  auto options = valid();
  CHECK(options.http_version == sse::http_version::automatic);
  CHECK(options.multiplex);
  for (const auto version : {sse::http_version::automatic, sse::http_version::http1_1,
                             sse::http_version::http2, sse::http_version::http2_prior_knowledge}) {
    options.http_version = version;
    CHECK_NOTHROW(sse::detail::validate(options));
  }
  options.http_version = static_cast<sse::http_version>(42);
  CHECK_THROWS_WITH(sse::detail::validate(options),
                    "options.http_version: not one of the enumerators, got 42");
}

TEST_CASE("options: usage_error is an invalid_argument", "[options]") {
  auto options = valid();
  options.url = "nope";
  CHECK_THROWS_AS(sse::detail::validate(options), std::invalid_argument);
}
