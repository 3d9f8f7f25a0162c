// SPDX-License-Identifier: MIT
// HTTP helpers: media type check, Retry-After, header lines, which statuses are retried.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;

TEST_CASE("http: text/event-stream matches with parameters and in any case", "[http]") {
  CHECK(sse::detail::is_event_stream("text/event-stream"));
  CHECK(sse::detail::is_event_stream("Text/Event-Stream"));
  CHECK(sse::detail::is_event_stream("text/event-stream; charset=utf-8"));
  CHECK(sse::detail::is_event_stream(" text/event-stream ;charset=UTF-8"));
  CHECK_FALSE(sse::detail::is_event_stream("text/event-streams"));
  CHECK_FALSE(sse::detail::is_event_stream("text/plain"));
  CHECK_FALSE(sse::detail::is_event_stream(""));
}

TEST_CASE("http: Retry-After in seconds and as an HTTP date", "[http]") {
  const auto now = std::chrono::system_clock::from_time_t(1445412480); // 2015-10-21 07:28:00 UTC
  CHECK(sse::detail::parse_retry_after("120", now) ==
        std::optional<std::chrono::milliseconds>(120s));
  CHECK(sse::detail::parse_retry_after(" 0 ", now) ==
        std::optional<std::chrono::milliseconds>(0ms));
  CHECK(sse::detail::parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) ==
        std::optional<std::chrono::milliseconds>(30s));
  CHECK(sse::detail::parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) ==
        std::optional<std::chrono::milliseconds>(0ms)); // in the past: at once
  CHECK_FALSE(sse::detail::parse_retry_after("soon", now));
  CHECK_FALSE(sse::detail::parse_retry_after("-5", now));
  CHECK_FALSE(sse::detail::parse_retry_after("", now));
  CHECK(sse::detail::parse_retry_after("99999999999999", now).value() >= 24h);
}

TEST_CASE("http: header lines split into trimmed name and value", "[http]") {
  const auto parts = sse::detail::split_header_line("Content-Type:  text/event-stream \r\n");
  REQUIRE(parts);
  CHECK(parts->first == "Content-Type");
  CHECK(parts->second == "text/event-stream");
  CHECK_FALSE(sse::detail::split_header_line("HTTP/1.1 200 OK\r\n"));
  CHECK_FALSE(sse::detail::split_header_line(": no name\r\n"));
}

TEST_CASE("http: 5xx, 408 and 429 are retried, other statuses are not", "[http]") {
  for (const long status : {500L, 502L, 503L, 504L, 408L, 429L}) {
    CHECK(sse::detail::is_retryable_status(status));
  }
  for (const long status : {400L, 401L, 403L, 404L, 410L, 201L, 204L, 301L}) {
    CHECK_FALSE(sse::detail::is_retryable_status(status));
  }
}
