// SPDX-License-Identifier: MIT
// An attempt's response: its head read line by line, and the verdict on it.
#ifndef SSE_CLIENT_DETAIL_RESPONSE_HPP
#define SSE_CLIENT_DETAIL_RESPONSE_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/http.hpp>
#include <sse/detail/request.hpp>
#include <sse/error.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Reads the heads of one attempt's responses (redirects and 1xx included) and says which is
/// the final one and whether it opens a stream. Loop thread only.
class response_reader {
public:
  /// What the end of a head means for the transfer.
  enum class verdict {
    keep_reading, ///< not the final response: a 1xx, a redirect libcurl follows, a challenge
    final,        ///< the final response's head: see `opens_stream()`
    stop,         ///< a protocol switch nobody asked for: libcurl would wait for ever
  };

  /// A new attempt to `url`; `upgrade_requested`: it asks for a 101 (cleartext HTTP/2).
  void begin(const attempt_request& request, const client_options& options) {
    info_ = response_info{};
    info_.url = request.url;
    head_.clear();
    head_bytes_ = 0;
    body_.clear();
    final_ = false;
    redirected_ = false;
    challenged_ = false;
    // Cleartext HTTP/2 by upgrade: the one case a 101 is asked for (libcurl handles it).
    upgrade_requested_ = options.http_version == sse::http_version::http2 && !is_https(request.url);
  }

  /// A header line as libcurl hands it over (status line, header or blank line). Returns the
  /// verdict at a blank line, `keep_reading` before.
  verdict line(std::string_view text, CURL* easy, const client_options& options) {
    if (text.size() >= 5 && text.substr(0, 5) == "HTTP/") {
      head_.clear(); // a new response: after a redirect or a 1xx
      head_bytes_ = 0;
      return verdict::keep_reading;
    }
    if (trim(text).empty()) {
      return end_of_head(easy, options);
    }
    if (const auto parts = split_header_line(text)) {
      keep(parts->first, parts->second);
    }
    return verdict::keep_reading;
  }

  /// Whether the final response opens a stream: 200 with Content-Type text/event-stream.
  bool opens_stream() const {
    const auto content_type = info_.header_value("Content-Type");
    return final_ && info_.status == 200 && content_type && is_event_stream(*content_type);
  }

  /// Keeps the start of a rejected response's body for `error::body`; false once it has enough.
  bool keep_body(std::string_view bytes) {
    constexpr std::size_t keep = 4096;
    body_.append(bytes.substr(0, keep - std::min(keep, body_.size())));
    return body_.size() < keep;
  }

  /// At the end of the transfer: a 401 challenge that libcurl did not answer after all is the
  /// final response.
  void transfer_ended(CURLcode result) {
    if (challenged_ && !final_ && info_.status == 401 && result == CURLE_OK) {
      final_ = true;
    }
  }

  /// Describes the failure of a final response that did not open a stream, and whether it is
  /// worth retrying. Empty for a 204, which ends the stream without an error.
  std::optional<retry_decision>
  failure(error& failure, std::optional<std::chrono::milliseconds>& retry_after) const {
    failure.http_status = static_cast<int>(info_.status);
    failure.headers = info_.headers;
    failure.body = body_;
    const long status = info_.status;
    if (status == 204) {
      return std::nullopt;
    }
    retry_decision proposal{false, std::nullopt};
    if (status != 200) {
      failure.code = make_error_code(errc::http_status);
      failure.message = "HTTP status " + std::to_string(status);
      if (status >= 300 && status < 400) {
        failure.message += " without a Location to follow";
      } else if (status == 101) {
        failure.message += ": a protocol switch that was not asked for";
      }
      proposal.retry = is_retryable_status(status);
      if (const auto value = info_.header_value("Retry-After")) {
        retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
      }
    } else {
      const auto content_type = info_.header_value("Content-Type");
      failure.code = make_error_code(errc::content_type);
      failure.message =
          "Content-Type is \"" + content_type.value_or("") + "\", not text/event-stream";
    }
    return proposal;
  }

  /// The final response so far (or the last challenge).
  const response_info& info() const noexcept { return info_; }
  /// Whether the final response's head has been read.
  bool is_final() const noexcept { return final_; }
  /// Whether this attempt followed a redirect.
  bool redirected() const noexcept { return redirected_; }

private:
  // Bounded, so a hostile server cannot grow the list without end (libcurl 7.88 bounds each
  // line, not their number); past the bound only the first of each header the client itself
  // reads is kept, so a valid stream is still recognised after many headers.
  void keep(std::string_view name, std::string_view value) {
    constexpr std::size_t budget = 256 * 1024;
    const std::size_t size = name.size() + value.size();
    if (head_bytes_ + size > budget) {
      const bool needed = iequals(name, "Content-Type") || iequals(name, "Retry-After") ||
                          iequals(name, "Location");
      const bool known = std::any_of(head_.begin(), head_.end(),
                                     [&](const header& h) { return iequals(h.first, name); });
      if (!needed || known) {
        return;
      }
    }
    head_bytes_ += size;
    head_.emplace_back(std::string(name), std::string(value));
  }

  verdict end_of_head(CURL* easy, const client_options& options) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 101 && !upgrade_requested_) {
      take_head(status);
      final_ = true;
      return verdict::stop;
    }
    if (status >= 100 && status < 200) {
      return verdict::keep_reading;
    }
    bool has_location = false;
    for (const auto& [key, value] : head_) {
      has_location = has_location || (iequals(key, "Location") && !value.empty());
    }
    if (status >= 300 && status < 400 && has_location && options.max_redirects > 0) {
      redirected_ = true;
      return verdict::keep_reading; // libcurl follows it (or fails with too many redirects)
    }
    if (is_auth_challenge(status, easy, options.auth)) {
      // Kept in case libcurl does not answer it after all; then it is the final response.
      challenged_ = true;
      take_head(status);
      return verdict::keep_reading;
    }
    final_ = true;
    take_head(status);
    long version = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
    info_.http_version = http_version_name(version);
    char* effective = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK &&
        effective != nullptr) {
      info_.url = effective;
    }
    return verdict::final;
  }

  void take_head(long status) {
    info_.status = status;
    info_.headers = std::move(head_);
    head_.clear();
  }

  // Digest and `any` send the credentials only in answer to a 401 challenge: libcurl then sends
  // the request again by itself, so the first 401 that offers a wanted method is not the answer.
  bool is_auth_challenge(long status, CURL* easy, const auth_options& auth) const {
    if (status != 401 || challenged_ || !auth.bearer_token.empty() ||
        auth.scheme == auth_scheme::basic || (auth.username.empty() && !auth.netrc)) {
      return false;
    }
    long available = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTPAUTH_AVAIL, &available);
    return (static_cast<unsigned long>(available) & auth_mask(auth)) != 0;
  }

  response_info info_;
  std::vector<header> head_; // the head being read
  std::size_t head_bytes_ = 0;
  std::string body_; // the start of a rejected response's body
  bool final_ = false;
  bool redirected_ = false;
  bool challenged_ = false; // a 401 challenge that libcurl answers
  bool upgrade_requested_ = false;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_RESPONSE_HPP
