// SPDX-License-Identifier: MIT
// What a client is told: URL, request, timeouts, TLS, reconnect policy and hooks, with defaults.
#ifndef SSE_CLIENT_OPTIONS_HPP
#define SSE_CLIENT_OPTIONS_HPP

#include <sse/cookie_jar.hpp>
#include <sse/detail/http.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/limits.hpp>
#include <sse/reconnect_policy.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE

/// One HTTP header: name and value.
using header = std::pair<std::string, std::string>;

/// The HTTP version a client asks for.
enum class http_version {
  automatic,             ///< libcurl's default: HTTP/2 over TLS when the server offers it (ALPN),
                         ///< HTTP/1.1 in cleartext
  http1_1,               ///< HTTP/1.1 only, also over TLS
  http2,                 ///< HTTP/2 over TLS by ALPN, in cleartext by an `Upgrade: h2c` request;
                         ///< HTTP/1.1 when the server declines
  http2_prior_knowledge, ///< HTTP/2 from the first byte, also in cleartext (the server must
                         ///< speak it)
};

/// TLS settings. Verification of the peer's certificate and host name is on unless `insecure`.
struct tls_options {
  /// Skip certificate and host name verification. Anyone on the path can then read and change
  /// the stream: for local testing only.
  bool insecure = false;
  /// A PEM bundle of CA certificates to trust instead of the system's.
  std::string ca_file;
  /// A directory of CA certificates (OpenSSL hashed names) to trust instead of the system's.
  std::string ca_path;
  /// A client certificate (PEM) and its private key, for servers that ask for one.
  std::string client_cert;
  /// The private key (PEM) of `client_cert`.
  std::string client_key;
  /// The password of `client_key`, when it is encrypted.
  std::string client_key_password;
};

/// How `auth_options::username` and `password` are sent.
enum class auth_scheme {
  basic,  ///< with the first request, base64 (readable by anyone on the path: use https)
  digest, ///< after the server's 401 challenge, as an MD5 or SHA-256 digest (one more round trip)
  any,    ///< the safest method the server's 401 offers, among libcurl's (one more round trip)
};

/// HTTP authentication by libcurl. Credentials go only to the host of the URL: never after a
/// redirect to another host or port (libcurl's `CURLOPT_UNRESTRICTED_AUTH` stays off).
struct auth_options {
  /// User name, sent with `password` by `scheme` (`curl -u`). Empty: none (unless `netrc`).
  std::string username;
  /// The password that goes with `username`.
  std::string password;
  /// How the user name and password are sent: basic (default), digest, or whatever the
  /// server's challenge offers.
  sse::auth_scheme scheme = sse::auth_scheme::basic;
  /// An OAuth 2 bearer token, sent as `Authorization: Bearer TOKEN` with every request to the
  /// URL's host (`curl --oauth2-bearer`). Not with `username`.
  std::string bearer_token;
  /// Take the user name and password for the host from a `.netrc` file when `username` is empty
  /// (`CURLOPT_NETRC` optional): `netrc_file`, or `$HOME/.netrc` when that is empty.
  bool netrc = false;
  /// The `.netrc` file to read with `netrc`; empty: `$HOME/.netrc`.
  std::string netrc_file;
};

/// The request about to be sent, handed to `client_options::before_attempt`, which may change it
/// (e.g. put a fresh token in a header). Built from the options for every attempt.
struct attempt_request {
  /// The URL to request.
  std::string url;
  /// The request method.
  std::string method;
  /// The request headers, defaults included.
  std::vector<header> headers;
  /// The request body; empty: none.
  std::optional<std::string> body;
  /// 1 for the first attempt, then 1 + the failures in a row before this one (the loss of an
  /// open stream counts as the first).
  unsigned attempt = 1;
  /// The Last-Event-ID this attempt will send ("" sends none). Changing it here is honoured.
  std::string last_event_id;
};

/// A final response (after redirects): what `on_response` and `on_open` see.
struct response_info {
  /// The HTTP status code.
  long status = 0;
  /// The HTTP version of the response: "HTTP/1.0", "HTTP/1.1", "HTTP/2" or "HTTP/3" ("" when
  /// libcurl does not say).
  std::string http_version;
  /// The URL that answered, after redirects.
  std::string url;
  /// The response headers, in the order received.
  std::vector<header> headers;
  /// The first value of a header, by case-insensitive name.
  std::optional<std::string> header_value(std::string_view name) const;
};

/// What happens after a failure; `client_options::on_failure` may change the proposal.
struct retry_decision {
  /// Whether to reconnect; false ends the stream for good.
  bool retry = false;
  /// Delay before the next attempt; empty: the reconnect policy's.
  std::optional<std::chrono::milliseconds> delay;
};

/// Everything a client is told. A plain copyable struct; the client validates it once and throws
/// `sse::usage_error` naming the field when something is wrong.
struct client_options {
  /// `http://` or `https://` URL of the stream. Required.
  std::string url;
  /// Request method; POST, REPORT and others send `body`.
  std::string method = "GET";
  /// Request body. Sent on every attempt unless `resend_body` is false.
  std::optional<std::string> body;
  /// Extra request headers, after the defaults (`Accept: text/event-stream`,
  /// `Cache-Control: no-cache`); a header given here replaces a default of the same name. A
  /// `Last-Event-ID` here is taken as `last_event_id` (which wins when both are set): each
  /// reconnect sends the id of the last event received.
  std::vector<header> headers;
  /// `Last-Event-ID` for the first request (e.g. restored from storage); "" sends none.
  std::string last_event_id;
  /// Longest last event ID kept for resuming, in bytes. Every reconnect sends it as
  /// `Last-Event-ID`, and servers and proxies refuse request headers much past a few KiB
  /// (libcurl itself fails a request head over 1 MiB). A server `id:` longer than this ends the
  /// stream after the events of that read, with `errc::too_large`, not retried: no reconnect could
  /// send it. 1 to 262144; a longer `last_event_id` option is a usage error.
  std::size_t max_id_size = 4096;
  /// Longest wait for the TCP and TLS handshakes of one attempt; empty: libcurl's default (300 s).
  std::optional<std::chrono::milliseconds> connect_timeout = std::chrono::seconds(30);
  /// A connection silent this long (no byte at all, comments included) is dropped and retried,
  /// reported as `errc::idle_timeout`. Also bounds the wait for the response headers. Empty: none.
  std::optional<std::chrono::milliseconds> idle_timeout = std::chrono::minutes(5);
  /// Longest line and largest event accepted; beyond it the connection fails with `too_large`
  /// and is retried.
  std::size_t max_event_size = default_max_event_size;
  /// Largest read libcurl hands over at once (`CURLOPT_BUFFERSIZE`, 1 KiB to 512 KiB). Bigger
  /// reads mean fewer calls for fast streams; the memory is touched only when data comes.
  std::size_t receive_buffer_size = 256 * 1024;
  /// The HTTP version to ask for (`CURLOPT_HTTP_VERSION`). The default gets HTTP/2 from https
  /// servers that offer it and HTTP/1.1 from the rest.
  sse::http_version http_version = sse::http_version::automatic;
  /// Share one HTTP/2 connection among the streams of one loop to the same https host, up to
  /// 100 streams per connection: 1,000 streams to one host use 10 connections instead of 1,000.
  /// Only over TLS and not with `http1_1`. False: every attempt opens a connection of its own.
  // How: an attempt that finds a connection to its host being set up waits for it
  // (CURLOPT_PIPEWAIT); attempts start in waves of 100 per host, a leader first and the rest once
  // its response is there, because libcurl 7.88 opens a new connection for an attempt started
  // while the host's connections are full. Cleartext HTTP/2 is left out: libcurl 7.88 wakes such
  // waiters only when another transfer ends, and before 8.0 fails a second cleartext stream.
  bool multiplex = true;
  /// Redirects (301, 302, 303, 307, 308) followed per request; 0 follows none. Only http and https
  /// targets are followed; Authorization and Cookie headers are not sent to another host.
  unsigned max_redirects = 10;
  /// `User-Agent` header.
  std::string user_agent = "sse-client/" + std::to_string(SSE_CLIENT_VERSION_MAJOR) + "." +
                           std::to_string(SSE_CLIENT_VERSION_MINOR) + "." +
                           std::to_string(SSE_CLIENT_VERSION_PATCH);
  /// Ask for compressed responses (`Accept-Encoding` with what libcurl supports). Off: SSE is
  /// usually compressed poorly in small chunks and the encoding adds latency.
  bool compression = false;
  /// Proxy URL; empty: libcurl's conventions (`http_proxy`, `https_proxy`, `no_proxy` variables).
  std::optional<std::string> proxy;
  /// Hosts not to reach through the proxy (libcurl's `CURLOPT_NOPROXY` syntax).
  std::optional<std::string> no_proxy;
  /// TLS verification and certificates.
  tls_options tls;
  /// User name and password (basic, digest), a bearer token, or `.netrc`. Default: none.
  auth_options auth;
  /// Where cookies are kept. Empty (the default): libcurl's cookie engine is off, `Set-Cookie`
  /// is ignored (a `Cookie` header in `headers` is still sent). A jar: the client keeps the
  /// cookies its responses set and sends them on later requests, reconnects included, under
  /// libcurl's domain, path, Secure and expiry rules; `opts.cookies.emplace()` gives a client
  /// a jar of its own, and clients given copies of one jar share it (on any loops).
  std::optional<sse::cookie_jar> cookies;
  /// Whether reconnects send `body` again (the public contract suite expects so). When false,
  /// reconnects send the method without a body.
  bool resend_body = true;
  /// Backoff between attempts; a server's `retry:` replaces the initial delay.
  reconnect_options reconnect;
  /// Reconnect when the server ends the body cleanly (WHATWG). False: the stream ends for good at
  /// the first clean end, reported as `close_reason::server_ended` (or `truncated` when an event
  /// was cut); a network error or idle timeout in the middle is still retried, sending the request
  /// again. For a request that must not be replayed, use `one_shot`, which implies this.
  bool reconnect_on_end = true;
  /// One request, one answer (LLM APIs, any POST that must not be replayed). The request is sent
  /// again only while the server cannot have acted on it: a connection that failed before the
  /// request went out (name resolution, connect), or a 5xx / 429 response (honouring
  /// `Retry-After`), within the limits of `reconnect`. Once a response is accepted as a stream,
  /// the request is never sent again: a clean end of the body ends the stream with
  /// `close_reason::server_ended`; a loss (network error, idle timeout, too large, an event cut by
  /// the end) ends it with `close_reason::truncated`, reported to `on_error` as a final error
  /// (except a clean end in the middle of an event, which is only the close reason). A connection
  /// lost after the request went out and before a response came is not retried either (the
  /// server may be answering it). `on_failure` is called as usual, but its `retry` is ignored
  /// once a stream was accepted or the request may have reached the server; `client::restart()`
  /// still sends the request again (the caller asks for it). Implies `reconnect_on_end = false`.
  bool one_shot = false;
  /// An event for which this returns true is delivered and then ends the stream for good, e.g.
  /// `[](const sse::event& e) { return e.data == "[DONE]"; }`.
  std::function<bool(const event&)> is_terminal;
  /// Called on the loop thread before every attempt; may change URL, method, headers and body.
  std::function<void(attempt_request&)> before_attempt;
  /// Called on the loop thread with every final response, before it is accepted or rejected.
  std::function<void(const response_info&)> on_response;
  /// Called on the loop thread after a failure with the error and the decision the client would
  /// take; returns the decision to take (e.g. refresh a token after a 401 and retry at once).
  std::function<retry_decision(const error&, retry_decision proposed)> on_failure;
};

inline std::optional<std::string> response_info::header_value(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (detail::iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

namespace detail {

inline bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool is_token(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (!is_token_char(c)) {
      return false;
    }
  }
  return true;
}

inline bool has_line_break(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// Throws `usage_error` when the URL is not an absolute http or https URL with a host.
inline void validate_url(std::string_view url, std::string_view field) {
  const std::size_t scheme_end = url.find("://");
  if (url.empty()) {
    throw usage_error(std::string(field) + ": required, got an empty string");
  }
  if (scheme_end == std::string_view::npos) {
    throw usage_error(std::string(field) + ": not an absolute URL, got \"" + std::string(url) +
                      "\"");
  }
  std::string scheme(url.substr(0, scheme_end));
  for (char& c : scheme) {
    c = ascii_lower(c);
  }
  if (scheme != "http" && scheme != "https") {
    throw usage_error(std::string(field) + ": scheme must be http or https, got \"" + scheme +
                      "\"");
  }
  const std::string_view rest = url.substr(scheme_end + 3);
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
    throw usage_error(std::string(field) + ": no host in \"" + std::string(url) + "\"");
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      throw usage_error(std::string(field) + ": contains a space or control character");
    }
  }
}

/// Throws `usage_error` naming the first bad field.
inline void validate(const client_options& options) {
  validate_url(options.url, "options.url");
  if (!is_token(options.method)) {
    throw usage_error("options.method: not an HTTP method token, got \"" + options.method + "\"");
  }
  for (const auto& [name, value] : options.headers) {
    if (!is_token(name)) {
      throw usage_error("options.headers: invalid header name \"" + name + "\"");
    }
    if (has_line_break(value)) {
      throw usage_error("options.headers: the value of \"" + name + "\" contains CR, LF or NUL");
    }
  }
  if (options.max_id_size < 1 || options.max_id_size > 256 * 1024) {
    throw usage_error("options.max_id_size: must be from 1 to 262144 bytes, got " +
                      std::to_string(options.max_id_size));
  }
  if (has_line_break(options.last_event_id)) {
    throw usage_error("options.last_event_id: contains CR, LF or NUL");
  }
  if (options.last_event_id.size() > options.max_id_size) {
    throw usage_error("options.last_event_id: " + std::to_string(options.last_event_id.size()) +
                      " bytes, over max_id_size (" + std::to_string(options.max_id_size) + ")");
  }
  if (has_line_break(options.user_agent)) {
    throw usage_error("options.user_agent: contains CR, LF or NUL");
  }
  if (options.connect_timeout && options.connect_timeout->count() <= 0) {
    throw usage_error("options.connect_timeout: must be positive, got " +
                      std::to_string(options.connect_timeout->count()) + " ms");
  }
  if (options.idle_timeout && options.idle_timeout->count() <= 0) {
    throw usage_error("options.idle_timeout: must be positive, got " +
                      std::to_string(options.idle_timeout->count()) + " ms");
  }
  if (options.receive_buffer_size < 1024 || options.receive_buffer_size > 512 * 1024) {
    throw usage_error("options.receive_buffer_size: must be from 1024 to 524288 bytes, got " +
                      std::to_string(options.receive_buffer_size));
  }
  switch (options.http_version) {
  case sse::http_version::automatic:
  case sse::http_version::http1_1:
  case sse::http_version::http2:
  case sse::http_version::http2_prior_knowledge:
    break;
  default:
    throw usage_error("options.http_version: not one of the enumerators, got " +
                      std::to_string(static_cast<int>(options.http_version)));
  }
  if (options.max_event_size == 0) {
    throw usage_error("options.max_event_size: must be positive");
  }
  if (options.proxy && !options.proxy->empty() && has_line_break(*options.proxy)) {
    throw usage_error("options.proxy: contains CR, LF or NUL");
  }
  const auth_options& auth = options.auth;
  if (!auth.bearer_token.empty() && !auth.username.empty()) {
    throw usage_error("options.auth: bearer_token and username are exclusive, got both");
  }
  if (has_line_break(auth.bearer_token) || has_line_break(auth.username) ||
      has_line_break(auth.password) || has_line_break(auth.netrc_file)) {
    throw usage_error("options.auth: a credential contains CR, LF or NUL");
  }
  switch (auth.scheme) {
  case auth_scheme::basic:
  case auth_scheme::digest:
  case auth_scheme::any:
    break;
  default:
    throw usage_error("options.auth.scheme: not one of the enumerators, got " +
                      std::to_string(static_cast<int>(auth.scheme)));
  }
  reconnect_policy::validate(options.reconnect);
}

/// A `Last-Event-ID` among the headers is where the stream starts (as `last_event_id`, which
/// wins when both are set), not a header to send unchanged: a reconnect sends the id of the
/// last event received, or it would ask the server for events it already delivered.
inline void adopt_last_event_id_header(client_options& options) {
  auto& headers = options.headers;
  for (auto it = headers.begin(); it != headers.end();) {
    if (iequals(it->first, "Last-Event-ID")) {
      if (options.last_event_id.empty()) {
        options.last_event_id = it->second;
      }
      it = headers.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_OPTIONS_HPP
