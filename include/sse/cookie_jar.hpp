// SPDX-License-Identifier: MIT
// Cookies kept across requests and shared among clients, on libcurl's cookie engine.
#ifndef SSE_CLIENT_COOKIE_JAR_HPP
#define SSE_CLIENT_COOKIE_JAR_HPP

#include <sse/detail/config.hpp>
#include <sse/error.hpp>
#include <sse/version.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#if SSE_CLIENT_DECLARATIONS_ONLY
typedef void CURLSH; // as <curl/curl.h> declares it
#else
#include <sse/detail/curl.hpp>

#include <curl/curl.h>

#include <array>
#include <cstddef>
#include <mutex>
#include <new>
#include <stdexcept>
#endif

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {
#if SSE_CLIENT_DECLARATIONS_ONLY
class cookie_share;
#else

/// A libcurl share handle that holds cookies, with a lock per kind of shared data: the easy
/// handles of any number of loops (threads) may use it at once.
class cookie_share {
public:
  cookie_share() {
    ensure_curl_initialized();
    share_ = curl_share_init();
    if (share_ == nullptr) {
      throw std::bad_alloc();
    }
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &cookie_share::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &cookie_share::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  }
  // Every easy handle using it is gone by now: each holds the share alive through its options.
  ~cookie_share() { curl_share_cleanup(share_); }
  cookie_share(const cookie_share&) = delete;
  cookie_share& operator=(const cookie_share&) = delete;

  CURLSH* get() const noexcept { return share_; }

  /// Calls `fn(CURL*)` with a fresh easy handle attached to the share, for the cookie options
  /// and queries that need one (CURLOPT_COOKIELIST, CURLINFO_COOKIELIST).
  template <typename Fn>
  void with_easy(Fn&& fn) const {
    easy_handle easy(curl_easy_init());
    if (!easy) {
      throw std::bad_alloc();
    }
    curl_easy_setopt(easy.get(), CURLOPT_SHARE, share_);
    fn(easy.get());
  }

private:
  // Recursive: libcurl does not promise never to take one kind twice on a thread.
  using mutex = std::recursive_mutex;
  static constexpr std::size_t kinds = CURL_LOCK_DATA_LAST;

  static mutex& mutex_for(void* self, curl_lock_data data) noexcept {
    const auto index = static_cast<std::size_t>(data);
    return static_cast<cookie_share*>(self)->mutexes_[index < kinds ? index : 0];
  }
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    mutex_for(self, data).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) { mutex_for(self, data).unlock(); }

  CURLSH* share_ = nullptr;
  std::array<mutex, kinds> mutexes_;
};

inline bool is_netscape_cookie_line(std::string_view line) noexcept {
  std::size_t tabs = 0;
  for (const char c : line) {
    tabs += c == '\t' ? 1 : 0;
    if (c == '\r' || c == '\n' || c == '\0') {
      return false;
    }
  }
  return tabs == 6;
}
#endif

} // namespace detail

/// Cookies that clients keep and send, under libcurl's rules: a cookie goes only to the host
/// (or domain) and path that set it, `Secure` ones only over https, expired ones never, and
/// none to another host after a redirect unless its domain matches. A client whose
/// `client_options::cookies` holds a jar stores the cookies its responses set (`Set-Cookie`)
/// and sends them on its later requests, reconnects included.
///
/// A `cookie_jar` is a handle: copies share one store, so clients given copies of one jar
/// share their cookies. The store locks, so those clients may run on different loops (threads),
/// and these methods are safe from any thread, also while clients use the jar.
class cookie_jar {
public:
  /// An empty jar.
  cookie_jar();

  /// A jar holding the cookies of a Netscape cookie file (as curl's `-c` and `save()` write).
  /// Throws std::runtime_error when the file cannot be read.
  static cookie_jar load(const std::string& path);

  /// Writes every cookie, session cookies included, to a Netscape cookie file that curl's `-b`
  /// and `load()` read. Throws std::runtime_error when the file cannot be written.
  void save(const std::string& path) const;

  /// Adds (or replaces) a cookie given as a Netscape cookie-file line: domain, include
  /// subdomains (TRUE/FALSE), path, secure (TRUE/FALSE), expiry (Unix time, 0: session), name,
  /// value, separated by tabs. Throws `usage_error` for anything else.
  void add(std::string_view netscape_line);

  /// Every cookie as a Netscape cookie-file line (see `add`), expired ones left out.
  std::vector<std::string> cookies() const;

  /// Removes every cookie.
  void clear();

  /// The libcurl share handle (`CURLSH*`) holding the cookies, for easy handles of your own
  /// (`CURLOPT_SHARE`, then `CURLOPT_COOKIEFILE` "" to turn the cookie engine on). Valid while
  /// a copy of this jar exists.
  CURLSH* native_handle() const noexcept;

private:
  std::shared_ptr<detail::cookie_share> share_;
};

SSE_CLIENT_END_NAMESPACE

#if !SSE_CLIENT_DECLARATIONS_ONLY
#include <sse/detail/cookie_jar_impl.hpp>
#endif
#endif // SSE_CLIENT_COOKIE_JAR_HPP
