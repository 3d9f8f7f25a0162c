// SPDX-License-Identifier: MIT
// HTTP helpers: media type check, Retry-After, header lines, which statuses are retried.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>

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

TEST_CASE("http: days_from_civil matches timegm for every day of 1900 to 2500", "[http]") {
  // Known days first, then the platform's timegm (POSIX; _mkgmtime on Windows) as the reference.
  CHECK(sse::detail::days_from_civil(1970, 1, 1) == 0);
  CHECK(sse::detail::days_from_civil(1969, 12, 31) == -1);
  CHECK(sse::detail::days_from_civil(2000, 2, 29) == 11016);
  CHECK(sse::detail::days_from_civil(2000, 3, 1) == 11017);
  CHECK(sse::detail::days_from_civil(2024, 2, 29) == 19782);
  CHECK(sse::detail::days_from_civil(2100, 3, 1) - sse::detail::days_from_civil(2100, 2, 28) == 1);
  CHECK(sse::detail::days_from_civil(0, 1, 1) == -719528);
  static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t checked = 0;
  std::int64_t expected_days = sse::detail::days_from_civil(1900, 1, 1);
  for (int year = 1900; year <= 2500; ++year) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    for (unsigned month = 1; month <= 12; ++month) {
      const unsigned days = month_days[month - 1] + (month == 2 && leap ? 1 : 0);
      for (unsigned day = 1; day <= days; ++day, ++expected_days) {
        const std::int64_t got = sse::detail::days_from_civil(year, month, day);
        if (got != expected_days) {
          FAIL_CHECK(year << "-" << month << "-" << day << ": " << got);
        }
        std::tm tm{};
        tm.tm_year = year - 1900;
        tm.tm_mon = static_cast<int>(month) - 1;
        tm.tm_mday = static_cast<int>(day);
        tm.tm_hour = 12;
#if defined(_WIN32)
        const std::time_t reference = _mkgmtime(&tm);
#else
        const std::time_t reference = timegm(&tm);
#endif
        if (year < 1970 && reference == static_cast<std::time_t>(-1)) {
          continue; // a platform without dates before its epoch
        }
        if (static_cast<std::int64_t>(reference) != got * 86400 + 12 * 3600) {
          FAIL_CHECK(year << "-" << month << "-" << day << ": " << got << " vs " << reference);
        }
        ++checked;
      }
    }
  }
  CHECK(checked >= 365 * 530); // the reference covered at least 1970 to 2500
}

TEST_CASE("http: Retry-After dates on leap days and at year ends", "[http]") {
  const auto at = [](std::int64_t seconds) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(seconds)));
  };
  // 2024-02-29 00:00:00 UTC is 1709164800; 2000-12-31 23:59:59 is 978307199.
  CHECK(sse::detail::parse_retry_after("Thu, 29 Feb 2024 00:00:10 GMT", at(1709164800)) ==
        std::optional<std::chrono::milliseconds>(10s));
  CHECK(sse::detail::parse_retry_after("Fri, 01 Mar 2024 00:00:00 GMT", at(1709164800)) ==
        std::optional<std::chrono::milliseconds>(24h));
  CHECK(sse::detail::parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", at(978307199)) ==
        std::optional<std::chrono::milliseconds>(1s));
  CHECK_FALSE(sse::detail::parse_retry_after("Thu, 29 Feb 2024 24:00:00 GMT", at(0)));
  CHECK_FALSE(sse::detail::parse_retry_after("Thu, 00 Feb 2024 00:00:00 GMT", at(0)));
  CHECK_FALSE(sse::detail::parse_retry_after("Thu, 29 Feb 12024 00:00:00 GMT", at(0)));
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
