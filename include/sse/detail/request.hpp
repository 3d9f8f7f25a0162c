// SPDX-License-Identifier: MIT
// An attempt's request: its headers, and the libcurl options that the client's options ask for.
#ifndef SSE_CLIENT_DETAIL_REQUEST_HPP
#define SSE_CLIENT_DETAIL_REQUEST_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/http.hpp>
#include <sse/options.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <string>
#include <string_view>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

inline bool is_https(std::string_view url) {
  return url.size() > 8 && iequals(url.substr(0, 8), "https://");
}

/// The request's headers: those a stream needs, unless the user gives one of the same name, then
/// the user's.
inline header_list request_headers(const attempt_request& request, bool has_body) {
  header_list headers;
  // Defaults first; a user header of the same name replaces one.
  const auto user_has = [&](std::string_view name) {
    for (const auto& [key, value] : request.headers) {
      if (iequals(key, name)) {
        return true;
      }
    }
    return false;
  };
  if (!user_has("Accept")) {
    append_header(headers, "Accept: text/event-stream");
  }
  if (!user_has("Cache-Control")) {
    append_header(headers, "Cache-Control: no-cache");
  }
  if (!request.last_event_id.empty() && !user_has("Last-Event-ID")) {
    append_header(headers, "Last-Event-ID: " + request.last_event_id);
  }
  for (const auto& [key, value] : request.headers) {
    // "Name;" is libcurl's way to send a header with an empty value.
    append_header(headers, value.empty() ? key + ";" : key + ": " + value);
  }
  if (has_body && !user_has("Content-Type")) {
    append_header(headers, "Content-Type:"); // no form-urlencoded guess
  }
  append_header(headers, "Expect:"); // no 100-continue round trip before the body

  return headers;
}

/// libcurl's mask for the configured scheme of user name and password.
inline unsigned long auth_mask(const auth_options& auth) noexcept {
  switch (auth.scheme) {
  case auth_scheme::digest:
    return CURLAUTH_DIGEST;
  case auth_scheme::any:
    return CURLAUTH_ANY;
  case auth_scheme::basic:
    break;
  }
  return CURLAUTH_BASIC;
}

/// Authentication and cookies by libcurl, which sends neither to another host after a redirect
/// (CURLOPT_UNRESTRICTED_AUTH stays off; cookies follow their domain).
inline void set_credentials(CURL* h, const client_options& options) {
  const auth_options& auth = options.auth;
  if (!auth.bearer_token.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, auth.bearer_token.c_str());
  } else if (!auth.username.empty() || auth.netrc) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(auth_mask(auth)));
    if (!auth.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, auth.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, auth.password.c_str());
    }
  }
  if (auth.netrc) {
    curl_easy_setopt(h, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
    if (!auth.netrc_file.empty()) {
      curl_easy_setopt(h, CURLOPT_NETRC_FILE, auth.netrc_file.c_str());
    }
  }
  if (options.cookies) {
    // Each attempt is a new handle: the jar's share carries the cookies from one to the next.
    curl_easy_setopt(h, CURLOPT_SHARE, options.cookies->native_handle());
    curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""); // the engine on, no file read
  }
}

/// Sets on `h` what `options` and `request` ask for: URL, protocols, redirects, HTTP version,
/// connection sharing, timeouts, proxy, TLS, credentials, method and body. libcurl reads `body`
/// and `headers` where they are, for as long as the transfer runs.
inline void set_request_options(CURL* h, const client_options& options,
                                const attempt_request& request, const std::string* body,
                                const header_list& headers) {
  const bool has_body = body != nullptr;
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, options.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  curl_easy_setopt(h, CURLOPT_POSTREDIR,
                   static_cast<long>(CURL_REDIR_POST_301 | CURL_REDIR_POST_302));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, static_cast<long>(options.receive_buffer_size));
  long version = CURL_HTTP_VERSION_NONE; // libcurl's default: h2 over TLS by ALPN, else 1.1
  switch (options.http_version) {
  case sse::http_version::automatic:
    break;
  case sse::http_version::http1_1:
    version = CURL_HTTP_VERSION_1_1;
    break;
  case sse::http_version::http2:
    version = CURL_HTTP_VERSION_2_0;
    break;
  case sse::http_version::http2_prior_knowledge:
    version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    break;
  }
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, version);
  // Waiting for a connection to share pays only where HTTP/2 can come of it, and in cleartext
  // libcurl 7.88 wakes the waiters only when some transfer ends: https only. Before 8.0,
  // libcurl also fails a second stream on a cleartext HTTP/2 connection (curl issue 10634).
  const bool https = is_https(request.url);
  const bool cleartext_h2 =
      !https && (options.http_version == sse::http_version::http2 ||
                 options.http_version == sse::http_version::http2_prior_knowledge);
  if (!options.multiplex ||
      (cleartext_h2 && curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)) {
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  } else if (https && options.http_version != sse::http_version::http1_1) {
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
  }
  if (options.connect_timeout) {
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout->count()));
  }
  if (options.compression) {
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  }
  if (options.proxy) {
    curl_easy_setopt(h, CURLOPT_PROXY, options.proxy->c_str());
  }
  if (options.no_proxy) {
    curl_easy_setopt(h, CURLOPT_NOPROXY, options.no_proxy->c_str());
  }
  const tls_options& tls = options.tls;
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);
  if (!tls.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
  }
  if (!tls.ca_path.empty()) {
    curl_easy_setopt(h, CURLOPT_CAPATH, tls.ca_path.c_str());
  }
  if (!tls.client_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert.c_str());
  }
  if (!tls.client_key.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls.client_key.c_str());
  }
  if (!tls.client_key_password.empty()) {
    curl_easy_setopt(h, CURLOPT_KEYPASSWD, tls.client_key_password.c_str());
  }
  set_credentials(h, options);
  if (request.method == "GET" && !has_body) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "POST" || has_body) {
    // libcurl reads the body from where it is held (POSTFIELDS copies nothing).
    // A null pointer would make libcurl read the body from stdin: "" for an empty one.
    const char* sent = has_body ? body->c_str() : "";
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(has_body ? body->size() : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, sent);
    if (request.method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
}

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_REQUEST_HPP
