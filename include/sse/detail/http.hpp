// SPDX-License-Identifier: MIT
// Small HTTP helpers: header lines, media types, Retry-After, what a status means for a stream.
#ifndef SSE_CLIENT_DETAIL_HTTP_HPP
#define SSE_CLIENT_DETAIL_HTTP_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sse::detail {

inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Splits "Name: value\r\n" into its trimmed parts; empty when the line is not a header.
inline std::optional<std::pair<std::string_view, std::string_view>>
split_header_line(std::string_view line) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  return std::make_pair(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
}

/// True for `text/event-stream`, any case, with or without parameters (`; charset=utf-8`).
inline bool is_event_stream(std::string_view content_type) noexcept {
  const std::size_t semicolon = content_type.find(';');
  return iequals(trim(content_type.substr(0, semicolon)), "text/event-stream");
}

/// Days from 1970-01-01 to the proleptic Gregorian date `year`-`month`-`day` (month 1 to 12),
/// negative before it: the calendar arithmetic of timegm(), which not every platform has. Eras
/// of 400 years repeat exactly; a year is counted from March, so that a leap day ends it.
constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400); // [0, 399]
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

/// A Retry-After value, in delta-seconds or as an HTTP date, as a delay from `now`.
inline std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  bool digits = true;
  for (const char c : value) {
    digits = digits && c >= '0' && c <= '9';
  }
  if (digits) {
    if (value.size() > 9) {
      return std::chrono::hours(24 * 365); // absurdly long: the caller caps it anyway
    }
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (the form RFC 9110 says senders use).
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  char weekday[4] = {};
  char month[4] = {};
  char zone[4] = {};
  const std::string text(value);
  if (std::sscanf(text.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", weekday, &day, month, &year, &hour,
                  &minute, &second, zone) != 8) {
    return std::nullopt;
  }
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const std::size_t index = months.find(month);
  if (index == std::string_view::npos || index % 3 != 0) {
    return std::nullopt;
  }
  // RFC 9110: a four-digit year; a leap second (60) is allowed.
  if (day < 1 || day > 31 || year < 0 || year > 9999 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  // UTC by arithmetic: no platform call (timegm is POSIX only) and no time zone involved.
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(index / 3 + 1), static_cast<unsigned>(day));
  const std::chrono::seconds when(days * 86400 + hour * 3600 + minute * 60 + second);
  const auto delay = std::chrono::system_clock::time_point(
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(when)) -
                     now;
  if (delay <= std::chrono::system_clock::duration::zero()) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay);
}

/// WHATWG plus common practice: these statuses are worth another attempt; others end the stream.
inline bool is_retryable_status(long status) noexcept {
  return status >= 500 || status == 408 || status == 429;
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_HTTP_HPP
