// SPDX-License-Identifier: MIT
// Typed errors: an error-code category for stream failures, and the usage error for bad options.
#ifndef SSE_CLIENT_ERROR_HPP
#define SSE_CLIENT_ERROR_HPP

#include <sse/version.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE

/// What went wrong with a stream. Zero is success, so `std::error_code{}` means "no error".
enum class errc {
  network = 1,  ///< connect, DNS, reset, clean end of body: the transport ended
  tls,          ///< certificate verification or handshake failure
  http_status,  ///< the server answered with a status other than 200
  content_type, ///< 200 but not text/event-stream
  too_large,    ///< a line or an event exceeded the configured maximum size
  idle_timeout, ///< no byte arrived within the idle timeout
  listener,     ///< a callback threw; the stream goes on
};

/// The enumerator's name, e.g. "http_status"; "unknown" for a value outside the enumeration.
constexpr std::string_view to_string(errc code) noexcept {
  switch (code) {
  case errc::network:
    return "network";
  case errc::tls:
    return "tls";
  case errc::http_status:
    return "http_status";
  case errc::content_type:
    return "content_type";
  case errc::too_large:
    return "too_large";
  case errc::idle_timeout:
    return "idle_timeout";
  case errc::listener:
    return "listener";
  }
  return "unknown";
}

namespace detail {
class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "sse"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
    case errc::network:
      return "network error";
    case errc::tls:
      return "TLS error";
    case errc::http_status:
      return "unexpected HTTP status";
    case errc::content_type:
      return "unexpected Content-Type";
    case errc::too_large:
      return "event or line too large";
    case errc::idle_timeout:
      return "idle timeout";
    case errc::listener:
      return "a callback threw";
    }
    return "unknown sse error";
  }
};
} // namespace detail

/// The category of every `sse::errc` code.
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

/// `e` as a `std::error_code` of `error_category()`; lets `code == sse::errc::tls` compile.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// A failure handed to `on_error`: never thrown out of the loop thread.
struct error {
  /// `code == sse::errc::tls` works; the category is `sse::error_category()`.
  std::error_code code;
  /// The HTTP status when a response arrived, else 0.
  int http_status = 0;
  /// Response headers (name, value) when a response arrived.
  std::vector<std::pair<std::string, std::string>> headers;
  /// The first bytes of a non-stream response body (up to 4 KiB), for diagnostics.
  std::string body;
  /// libcurl's message or ours, for people.
  std::string message;
  /// Failures in a row, this one included: 1 for the first attempt's failure and for the loss
  /// of a stream that was open, counting up while the reconnects after it fail.
  unsigned attempt = 0;
  /// A reconnect is already scheduled.
  bool will_retry = false;
  /// When `will_retry`, the delay before that reconnect.
  std::chrono::milliseconds retry_delay{0};
};

/// A configuration mistake, thrown when a client is built; the message names the field.
class usage_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

SSE_CLIENT_END_NAMESPACE

namespace std {
template <>
struct is_error_code_enum<sse::errc> : true_type {};
} // namespace std

#endif // SSE_CLIENT_ERROR_HPP
