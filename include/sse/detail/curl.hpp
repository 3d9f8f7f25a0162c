// SPDX-License-Identifier: MIT
// libcurl plumbing: one-time global init, owning handles, and what a CURLcode means for us.
#ifndef SSE_CLIENT_DETAIL_CURL_HPP
#define SSE_CLIENT_DETAIL_CURL_HPP

#include <sse/error.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

// CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR (http and https only) came in 7.85.0.
#if LIBCURL_VERSION_NUM < 0x075500
#error "sse-client needs libcurl 7.85.0 or newer"
#endif

#include <memory>
#include <stdexcept>
#include <string>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Runs curl_global_init once per process, before the first handle is made.
inline void ensure_curl_initialized() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) {
    throw std::runtime_error(std::string("curl_global_init failed: ") + curl_easy_strerror(result));
  }
}

struct easy_deleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using easy_handle = std::unique_ptr<CURL, easy_deleter>;

struct slist_deleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using header_list = std::unique_ptr<curl_slist, slist_deleter>;

/// Appends a line to a curl_slist, keeping ownership in `list`.
inline void append_header(header_list& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) {
    throw std::bad_alloc();
  }
  (void)list.release();
  list.reset(grown);
}

/// The name of a `CURLINFO_HTTP_VERSION` value as a status line spells it ("HTTP/2"); "" for
/// one libcurl did not set.
inline std::string http_version_name(long version) {
  switch (version) {
  case CURL_HTTP_VERSION_1_0:
    return "HTTP/1.0";
  case CURL_HTTP_VERSION_1_1:
    return "HTTP/1.1";
  case CURL_HTTP_VERSION_2_0:
    return "HTTP/2";
  case CURL_HTTP_VERSION_3:
    return "HTTP/3";
  default:
    return "";
  }
}

/// Failures that will not heal by retrying: a bad certificate, a refused scheme, a redirect loop.
inline bool is_permanent_curl_error(CURLcode code) noexcept {
  switch (code) {
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
  case CURLE_TOO_MANY_REDIRECTS:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
    return true;
  default:
    return false;
  }
}

/// The category a transport failure belongs to.
inline errc classify_curl_error(CURLcode code) noexcept {
  switch (code) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_USE_SSL_FAILED:
    return errc::tls;
  default:
    return errc::network;
  }
}

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_CURL_HPP
