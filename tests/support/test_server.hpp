// SPDX-License-Identifier: MIT
// Loopback HTTP/1.1 servers for integration tests: raw sockets, so tests control every byte.
#ifndef SSE_CLIENT_TESTS_SUPPORT_TEST_SERVER_HPP
#define SSE_CLIENT_TESTS_SUPPORT_TEST_SERVER_HPP

#include "support/socket.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace sse_test {

/// Header fields in the order they were sent or are to be sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request as the server received it (body already de-chunked).
struct request {
  std::string method;
  std::string target;  ///< as sent: "/path?query"
  std::string version; ///< "HTTP/1.1" or "HTTP/1.0"
  header_list headers; ///< names as sent, values without surrounding whitespace
  std::string body;

  /// The value of the first header named `name` (ASCII case-insensitive), or empty.
  std::optional<std::string> header(std::string_view name) const;
};

namespace detail {

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

inline bool has_header(const header_list& headers, std::string_view name) noexcept {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

inline const char* reason_phrase(int status) noexcept {
  switch (status) {
  case 100:
    return "Continue";
  case 101:
    return "Switching Protocols";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 206:
    return "Partial Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 303:
    return "See Other";
  case 304:
    return "Not Modified";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Unknown";
  }
}

// Limits that keep a broken client from making the server grow without bound or hang a test.
constexpr std::size_t max_head_size = 64 * 1024;
constexpr std::size_t max_header_count = 256;
constexpr std::size_t max_body_size = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds request_timeout{30000};
constexpr std::chrono::milliseconds send_stall_timeout{60000};
constexpr std::chrono::milliseconds linger_timeout{2000};
constexpr std::chrono::milliseconds wait_cap{24 * 60 * 60 * 1000};

[[noreturn]] inline void throw_errno(const char* what) {
  throw_socket_error(what);
}

/// Non-blocking, and on POSIX close-on-exec (Windows sockets are made uninheritable).
inline void set_nonblocking_cloexec(socket_t fd) {
#ifdef _WIN32
  u_long on = 1;
  if (::ioctlsocket(fd, static_cast<long>(FIONBIO), &on) != 0) {
    throw_errno("ioctlsocket(FIONBIO)");
  }
#else
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    throw_errno("fcntl");
  }
#endif
}

#ifdef _WIN32
inline std::pair<socket_t, std::uint16_t> listen_loopback(); // stop_signal's socket pair
#endif

/// The server's "stop now" flag plus a pipe that becomes readable, once and for good, when the
/// flag is set: every thread waiting in poll() wakes at once, so waits need no short slices.
class stop_signal {
public:
  stop_signal() {
#ifdef _WIN32
    // WSAPoll waits on sockets only: a loopback TCP connection instead of a pipe.
    const auto [listener, port] = listen_loopback();
    try {
      write_fd_ = tcp_socket();
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (write_fd_ == invalid_socket ||
          ::connect(write_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw_errno("connect");
      }
      read_fd_ = ::accept(listener, nullptr, nullptr);
      if (read_fd_ == invalid_socket) {
        throw_errno("accept");
      }
      set_nonblocking_cloexec(read_fd_);
      set_nonblocking_cloexec(write_fd_);
    } catch (...) {
      close_socket(listener);
      if (read_fd_ != invalid_socket) {
        close_socket(read_fd_);
      }
      if (write_fd_ != invalid_socket) {
        close_socket(write_fd_);
      }
      throw;
    }
    close_socket(listener);
#else
    int fds[2];
    if (::pipe(fds) != 0) {
      throw_errno("pipe");
    }
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    try {
      set_nonblocking_cloexec(read_fd_);
      set_nonblocking_cloexec(write_fd_);
    } catch (...) {
      ::close(read_fd_);
      ::close(write_fd_);
      throw;
    }
#endif
  }
  ~stop_signal() {
    close_socket(read_fd_);
    close_socket(write_fd_);
  }
  stop_signal(const stop_signal&) = delete;
  stop_signal& operator=(const stop_signal&) = delete;

  void request() noexcept {
    if (stopping_.exchange(true)) {
      return;
    }
    const char byte = 1;
#ifdef _WIN32
    (void)send_some(write_fd_, &byte, 1);
#else
    for (int attempt = 0; attempt < 100; ++attempt) { // only EINTR repeats
      if (::write(write_fd_, &byte, 1) >= 0 || errno != EINTR) {
        break;
      }
    }
#endif
  }
  bool stopping() const noexcept {
    return stopping_.load();
  }
  socket_t fd() const noexcept {
    return read_fd_;
  }

private:
  std::atomic<bool> stopping_{false};
  socket_t read_fd_ = invalid_socket;
  socket_t write_fd_ = invalid_socket;
};

enum class wait_result { ready, timed_out, stopped };

/// Waits until `fd` reports any of `events` (or an error/hangup), the stop signal fires, or
/// `timeout` passes. With invalid_socket it only sleeps, interruptibly.
inline wait_result wait_fd(socket_t fd, short events, std::chrono::milliseconds timeout,
                           const stop_signal& stop) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::min(timeout, wait_cap);
  // Ends at the deadline: every poll() waits at most until it.
  for (;;) {
    if (stop.stopping()) {
      return wait_result::stopped;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    const auto wait_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1000));
    poll_entry fds[2] = {{stop.fd(), poll_in, 0}, {fd, events, 0}};
    const std::size_t count = fd != invalid_socket ? 2 : 1;
    const int n = poll_sockets(fds, count, wait_ms);
    if (n > 0 && fds[0].revents != 0) {
      return wait_result::stopped;
    }
    if (n > 0 && count == 2 && fds[1].revents != 0) {
      return wait_result::ready;
    }
    if (n < 0 && !socket_interrupted(socket_error())) {
      return wait_result::timed_out;
    }
    if (left.count() <= 0) {
      return wait_result::timed_out;
    }
  }
}

/// Writes every byte of `bytes` (MSG_NOSIGNAL: a vanished peer is an error, not SIGPIPE).
/// False when the peer is gone, the server stops while the socket is full, or the peer reads
/// nothing for `send_stall_timeout`.
inline bool send_all(socket_t fd, std::string_view bytes, const stop_signal& stop) {
  if (fd == invalid_socket) {
    return false;
  }
  // Ends: each pass either sends bytes or waits (bounded) for room.
  while (!bytes.empty()) {
    const auto n = send_some(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    const int error = n < 0 ? socket_error() : 0;
    if (n < 0 && socket_interrupted(error)) {
      continue;
    }
    if (n < 0 && socket_would_block(error)) {
      if (wait_fd(fd, poll_out, send_stall_timeout, stop) != wait_result::ready) {
        return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

/// Binds a TCP socket to 127.0.0.1 on a kernel-chosen port and listens. Returns {fd, port}.
inline std::pair<socket_t, std::uint16_t> listen_loopback() {
  const socket_t fd = tcp_socket();
  if (fd == invalid_socket) {
    throw_errno("socket");
  }
  try {
    if (set_socket_option(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
      throw_errno("setsockopt(SO_REUSEADDR)");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    if (::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr) != 1) {
      throw_errno("inet_pton");
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      throw_errno("bind");
    }
    if (::listen(fd, SOMAXCONN) != 0) {
      throw_errno("listen");
    }
    socket_length len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw_errno("getsockname");
    }
    return {fd, ntohs(addr.sin_port)};
  } catch (...) {
    close_socket(fd);
    throw;
  }
}

/// Buffered reads from one socket, all bounded by one deadline and the stop signal.
class input {
public:
  input(socket_t fd, const stop_signal& stop)
      : fd_(fd), stop_(stop), deadline_(std::chrono::steady_clock::now() + request_timeout) {}

  enum class line_result { ok, too_long, ended };

  /// Takes the next line without its LF (and a CR before it).
  line_result line(std::string& out, std::size_t max) {
    // Ends: fill() fails at the deadline, and each pass grows the buffer or returns.
    for (;;) {
      const auto nl = buffer_.find('\n', pos_);
      if (nl != std::string::npos) {
        if (nl - pos_ > max + 1) {
          return line_result::too_long;
        }
        out.assign(buffer_, pos_, nl - pos_);
        if (!out.empty() && out.back() == '\r') {
          out.pop_back();
        }
        pos_ = nl + 1;
        return line_result::ok;
      }
      if (buffer_.size() - pos_ > max + 1) {
        return line_result::too_long;
      }
      if (!fill()) {
        return line_result::ended;
      }
    }
  }

  /// Appends exactly `n` bytes to `out`; false if the input ends first.
  bool bytes(std::string& out, std::size_t n) {
    while (buffer_.size() - pos_ < n) { // ends: fill() fails at the deadline
      if (!fill()) {
        return false;
      }
    }
    out.append(buffer_, pos_, n);
    pos_ += n;
    return true;
  }

  std::size_t buffered() const noexcept { return buffer_.size() - pos_; }

private:
  bool fill() {
    for (;;) { // ends at the deadline (wait_fd) or on any read result
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0 || wait_fd(fd_, poll_in, left, stop_) != wait_result::ready) {
        return false;
      }
      char chunk[16384];
      const auto n = recv_some(fd_, chunk, sizeof chunk);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      const int error = socket_error();
      if (n == 0 || (!socket_would_block(error) && !socket_interrupted(error))) {
        return false;
      }
    }
  }

  socket_t fd_;
  const stop_signal& stop_;
  std::chrono::steady_clock::time_point deadline_;
  std::string buffer_;
  std::size_t pos_ = 0;
};

/// Parses a decimal Content-Length; empty on anything but 1+ digits up to max_body_size.
inline std::optional<std::size_t> parse_length(std::string_view s) noexcept {
  if (s.empty() || s.size() > 12) {
    return std::nullopt;
  }
  std::size_t n = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

/// Parses a chunk-size line's hex size (extensions after ';' ignored).
inline std::optional<std::size_t> parse_chunk_size(std::string_view line) noexcept {
  const auto semi = line.find(';');
  const auto hex = trim_ows(line.substr(0, semi));
  if (hex.empty() || hex.size() > 8) {
    return std::nullopt;
  }
  std::size_t n = 0;
  for (const char c : hex) {
    std::size_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::size_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::size_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::size_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    n = n * 16 + digit;
  }
  return n;
}

// read_request's results besides an HTTP status to reject the request with.
constexpr int request_ok = 0;
constexpr int request_gone = -1; // peer left, time ran out or server stopping: no answer

/// Reads one request into `req`. Returns request_ok, request_gone, or the 4xx/5xx status the
/// server answers a malformed or unsupported request with.
inline int read_request(socket_t fd, const stop_signal& stop, request& req) {
  input in(fd, stop);
  std::string line;
  // RFC 9112 2.2: a server should ignore at least one empty line before the request-line.
  for (int skipped = 0; skipped < 4 && line.empty(); ++skipped) {
    const auto r = in.line(line, max_head_size);
    if (r == input::line_result::ended) {
      return request_gone;
    }
    if (r == input::line_result::too_long) {
      return 414;
    }
  }
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos || sp1 == 0 ||
      sp2 == sp1 + 1) {
    return 400;
  }
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.version = line.substr(sp2 + 1);
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
    return req.version.rfind("HTTP/", 0) == 0 ? 505 : 400;
  }

  std::size_t head_size = line.size();
  for (;;) { // ends: at most max_header_count lines, or the input ends
    const auto r = in.line(line, max_head_size);
    if (r == input::line_result::ended) {
      return request_gone;
    }
    if (r == input::line_result::too_long) {
      return 431;
    }
    if (line.empty()) {
      break;
    }
    head_size += line.size();
    if (head_size > max_head_size || req.headers.size() >= max_header_count) {
      return 431;
    }
    // RFC 9112 5.2: obsolete line folding is rejected; 5.1: no whitespace before the colon.
    const auto colon = line.find(':');
    if (line[0] == ' ' || line[0] == '\t' || colon == std::string::npos || colon == 0 ||
        line.find_first_of(" \t") < colon) {
      return 400;
    }
    req.headers.emplace_back(line.substr(0, colon),
                             std::string(trim_ows(std::string_view(line).substr(colon + 1))));
  }

  const auto transfer_encoding = req.header("Transfer-Encoding");
  const auto content_length = req.header("Content-Length");
  if (transfer_encoding && content_length) {
    return 400; // RFC 9112 6.3: a request with both is a smuggling risk; reject it
  }
  if (transfer_encoding && !iequals(trim_ows(*transfer_encoding), "chunked")) {
    return 501;
  }
  std::size_t length = 0;
  if (content_length) {
    for (const auto& h : req.headers) { // several Content-Length headers must agree
      if (iequals(h.first, "Content-Length") && h.second != *content_length) {
        return 400;
      }
    }
    const auto parsed = parse_length(*content_length);
    if (!parsed) {
      return 400;
    }
    if (*parsed > max_body_size) {
      return 413;
    }
    length = *parsed;
  }
  const bool has_body = transfer_encoding.has_value() || length > 0;
  const auto expect = req.header("Expect");
  // Clients such as curl wait for this (up to a second) before sending a large body.
  if (has_body && expect && iequals(*expect, "100-continue") && req.version == "HTTP/1.1" &&
      in.buffered() == 0 && !send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", stop)) {
    return request_gone;
  }

  if (!transfer_encoding) {
    return in.bytes(req.body, length) ? request_ok : request_gone;
  }
  // RFC 9112 7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF.
  for (;;) { // ends: the body grows each pass up to max_body_size, or the input ends
    auto r = in.line(line, 1024);
    if (r == input::line_result::ended) {
      return request_gone;
    }
    const auto size = r == input::line_result::ok ? parse_chunk_size(line) : std::nullopt;
    if (!size) {
      return 400;
    }
    if (*size == 0) {
      break;
    }
    if (req.body.size() + *size > max_body_size) {
      return 413;
    }
    if (!in.bytes(req.body, *size)) {
      return request_gone;
    }
    r = in.line(line, 0);
    if (r == input::line_result::ended) {
      return request_gone;
    }
    if (r != input::line_result::ok || !line.empty()) {
      return 400;
    }
  }
  for (std::size_t trailers = 0;; ++trailers) { // trailer fields are read and dropped
    const auto r = in.line(line, max_head_size);
    if (r == input::line_result::ended) {
      return request_gone;
    }
    if (r == input::line_result::too_long || trailers >= max_header_count) {
      return 431;
    }
    if (line.empty()) {
      return request_ok;
    }
  }
}

} // namespace detail

inline std::optional<std::string> request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (detail::iequals(h.first, name)) {
      return h.second;
    }
  }
  return std::nullopt;
}

class test_server;

/// One accepted connection whose request has been read, handed to the handler on the
/// connection's own thread. Use it from that thread only. When the handler returns, the server
/// closes the connection gracefully (FIN, then it reads until the client's FIN, up to 2 s or
/// until stop) unless the handler already called abort().
class connection {
public:
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { finish(); }

  /// The request, fully read (body included, de-chunked) before the handler was called.
  const request& req() const noexcept { return req_; }

  /// Writes raw bytes as they are (no framing). False when the peer is gone, the connection was
  /// closed or aborted, or the server stops while the client is not reading.
  bool send(std::string_view bytes) {
    return !write_closed_ && detail::send_all(fd_, bytes, stop_);
  }

  /// Writes "HTTP/1.1 <status> <reason>", `headers` as given (no Content-Length unless given),
  /// "Transfer-Encoding: chunked" when `chunked`, "Connection: close" unless given, and the
  /// blank line, in one write. After a chunked head, send_chunk() frames data.
  bool send_head(int status, header_list headers = {{"Content-Type", "text/event-stream"}},
                 bool chunked = false) {
    std::string head =
        "HTTP/1.1 " + std::to_string(status) + " " + detail::reason_phrase(status) + "\r\n";
    for (const auto& h : headers) {
      head += h.first + ": " + h.second + "\r\n";
    }
    if (chunked && !detail::has_header(headers, "Transfer-Encoding")) {
      head += "Transfer-Encoding: chunked\r\n";
    }
    if (!detail::has_header(headers, "Connection")) {
      head += "Connection: close\r\n";
    }
    head += "\r\n";
    chunked_ = chunked;
    return send(head);
  }

  /// With a chunked head, writes `data` as one chunk; an empty `data` writes the last chunk
  /// ("0\r\n\r\n"), which close() never adds by itself (so tests can cut a chunked body short).
  /// Without a chunked head, writes `data` raw.
  bool send_chunk(std::string_view data) {
    if (!chunked_) {
      return send(data);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string frame;
    std::size_t n = data.size();
    do { // hex digits, least significant first; reversed below
      frame.push_back(digits[n % 16]);
      n /= 16;
    } while (n != 0);
    std::reverse(frame.begin(), frame.end());
    frame += "\r\n";
    frame += data;
    frame += "\r\n"; // for the last chunk this ends the (empty) trailer section
    return send(frame);
  }

  /// Graceful close: sends FIN after any queued bytes. The socket stays readable, so
  /// wait_closed_by_peer() still works; the descriptor is released when the handler returns.
  void close() noexcept {
    if (fd_ != invalid_socket && !write_closed_) {
      ::shutdown(fd_, shut_write);
    }
    write_closed_ = true;
  }

  /// Abortive close: SO_LINGER 0 then close(), so the client sees a TCP RST (ECONNRESET).
  void abort() noexcept {
    if (fd_ == invalid_socket) {
      return;
    }
    set_linger_zero(fd_);
    close_socket(fd_);
    fd_ = invalid_socket;
    write_closed_ = true;
  }

  /// True once the client has closed its side or reset the connection (bytes it sends after the
  /// request are read and dropped). False when `timeout` passes or the server stops first, and
  /// at once after abort().
  bool wait_closed_by_peer(std::chrono::milliseconds timeout) {
    if (peer_closed_ || fd_ == invalid_socket) {
      return peer_closed_;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::min(timeout, detail::wait_cap);
    // Ends at the deadline, checked here too: a client that keeps sending keeps fd readable.
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0 ||
          detail::wait_fd(fd_, poll_in, left, stop_) != detail::wait_result::ready) {
        return false;
      }
      char sink[4096];
      const auto n = recv_some(fd_, sink, sizeof sink);
      const int error = n < 0 ? socket_error() : 0;
      if (n == 0 || (n < 0 && !socket_would_block(error) && !socket_interrupted(error))) {
        peer_closed_ = true;
        return true;
      }
    }
  }

  /// True once the server is stopping: handlers must return promptly.
  bool stopping() const noexcept { return stop_.stopping(); }

  /// Sleeps for `d` unless the server stops first. True when the full time passed; false when
  /// interrupted by stop() (then return from the handler).
  bool sleep_for(std::chrono::milliseconds d) {
    return detail::wait_fd(invalid_socket, 0, d, stop_) != detail::wait_result::stopped;
  }

private:
  friend class test_server;
  connection(socket_t fd, const detail::stop_signal& stop) : fd_(fd), stop_(stop) {}

  // Closes after the handler: FIN, then read until the client's FIN, because close() with
  // unread input sends an RST, which may destroy the response still on its way to the client.
  void finish() noexcept {
    if (fd_ == invalid_socket) {
      return;
    }
    close();
    wait_closed_by_peer(detail::linger_timeout);
    close_socket(fd_);
    fd_ = invalid_socket;
  }

  socket_t fd_;
  const detail::stop_signal& stop_;
  request req_;
  bool chunked_ = false;
  bool write_closed_ = false;
  bool peer_closed_ = false;
};

/// Called once per request, on that connection's own thread (so concurrently for concurrent
/// connections). Catch2 assertions are not thread-safe: record values and check them in the
/// test's thread. An exception escaping the handler is recorded in handler_errors().
using handler = std::function<void(connection&)>;

/// An HTTP/1.1 server on 127.0.0.1 with a kernel-chosen port: one thread accepts, one thread
/// per connection reads a request and runs the handler. One request per connection
/// (responses say "Connection: close"). Bad requests get a 4xx/5xx reply and are not recorded.
class test_server {
public:
  using handler = sse_test::handler;

  /// Binds 127.0.0.1:0 (SO_REUSEADDR), listens and starts accepting. Throws std::system_error.
  explicit test_server(handler h) : handler_(std::move(h)) {
    const auto [fd, port] = detail::listen_loopback();
    listen_fd_ = fd;
    port_ = port;
    try {
      detail::set_nonblocking_cloexec(listen_fd_);
      accept_thread_ = std::thread([this] { accept_loop(); });
    } catch (...) {
      close_socket(listen_fd_);
      throw;
    }
  }

  /// Stops (see stop()).
  ~test_server() { stop(); }

  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// "http://127.0.0.1:PORT" followed by `path`.
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  /// Every well-formed request received so far, in arrival order (a copy; thread-safe).
  std::vector<request> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  /// True once at least `n` requests have been received; false if `timeout` passes first.
  /// A request is recorded before its handler runs.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return requests_changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  /// Connections accepted so far.
  std::size_t connection_count() const noexcept { return accepted_.load(); }

  /// Connections accepted and not yet closed by the server (a connection counts until its
  /// descriptor is closed: after the handler and the graceful-close linger, or at abort()).
  std::size_t open_connections() const noexcept { return open_.load(); }

  /// what() of each exception that escaped the handler, in order.
  std::vector<std::string> handler_errors() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return handler_errors_;
  }

  /// Stops accepting, tells handlers to return (stopping() becomes true; sleep_for,
  /// wait_closed_by_peer and blocked sends return false), and joins every thread once the
  /// handlers have returned and their sockets are closed. Idempotent; not from a handler.
  void stop() {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stop_.request();
    if (accept_thread_.joinable()) {
      accept_thread_.join();
    }
    if (listen_fd_ != invalid_socket) {
      close_socket(listen_fd_);
      listen_fd_ = invalid_socket;
    }
    // The accept thread is gone: the worker list is ours alone now.
    for (auto& w : workers_) {
      w->thread.join();
    }
    workers_.clear();
  }

private:
  struct worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop() {
    // Ends on stop; wakes at least every 100 ms to join finished connection threads, so a
    // test making hundreds of connections holds only the live ones.
    while (detail::wait_fd(listen_fd_, poll_in, std::chrono::milliseconds(100), stop_) !=
           detail::wait_result::stopped) {
      reap_finished();
      for (int burst = 0; burst < 64; ++burst) { // drain the backlog, then poll again
        const socket_t fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd == invalid_socket) {
          break; // EAGAIN: backlog empty; anything else: retry after the next poll
        }
        start_worker(fd);
      }
    }
  }

  void start_worker(socket_t fd) {
    accepted_.fetch_add(1);
    open_.fetch_add(1);
    try {
      detail::set_nonblocking_cloexec(fd);
      set_socket_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
      auto w = std::make_unique<worker>();
      worker& self = *w;
      w->thread = std::thread([this, fd, &self] { serve(fd, self); });
      workers_.push_back(std::move(w));
    } catch (const std::exception& e) {
      // The thread never started (or a fcntl failed): the socket is still ours to close.
      close_socket(fd);
      open_.fetch_sub(1);
      record_error(std::string("accepting a connection: ") + e.what());
    }
  }

  void reap_finished() {
    auto it = std::remove_if(workers_.begin(), workers_.end(), [](std::unique_ptr<worker>& w) {
      if (!w->done.load()) {
        return false;
      }
      w->thread.join(); // done is its last step: this returns at once
      return true;
    });
    workers_.erase(it, workers_.end());
  }

  void serve(socket_t fd, worker& self) {
    {
      connection conn(fd, stop_);
      const int outcome = detail::read_request(fd, stop_, conn.req_);
      if (outcome == detail::request_ok) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          requests_.push_back(conn.req_);
        }
        requests_changed_.notify_all();
        try {
          handler_(conn);
        } catch (const std::exception& e) {
          record_error(e.what());
        } catch (...) {
          record_error("a non-std::exception");
        }
      } else if (outcome != detail::request_gone) {
        conn.send_head(outcome, {{"Content-Length", "0"}});
      }
    } // the connection closes here
    open_.fetch_sub(1);
    self.done.store(true);
  }

  void record_error(std::string what) {
    std::lock_guard<std::mutex> lock(mutex_);
    handler_errors_.push_back(std::move(what));
  }

  handler handler_;
  detail::stop_signal stop_;
  socket_t listen_fd_ = invalid_socket;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> open_{0};
  mutable std::mutex mutex_; // guards requests_ and handler_errors_
  mutable std::condition_variable requests_changed_;
  std::vector<request> requests_;
  std::vector<std::string> handler_errors_;
  std::mutex stop_mutex_;
  std::vector<std::unique_ptr<worker>> workers_; // the accept thread's, then stop()'s
  std::thread accept_thread_;
};

/// A server that completes TCP handshakes (the kernel's listen backlog does) but never accepts,
/// reads or answers: for connect, request-timeout and close-latency tests. Requests sit
/// unread; destroying it closes the listener, which resets the queued connections.
class silent_server {
public:
  /// Binds 127.0.0.1:0 and listens. Throws std::system_error.
  explicit silent_server() {
    const auto [fd, port] = detail::listen_loopback();
    fd_ = fd;
    port_ = port;
  }
  ~silent_server() { close_socket(fd_); }
  silent_server(const silent_server&) = delete;
  silent_server& operator=(const silent_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// "http://127.0.0.1:PORT" followed by `path`.
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

private:
  socket_t fd_ = invalid_socket;
  std::uint16_t port_ = 0;
};

/// Answers 200 text/event-stream with `body`, then closes (FIN).
inline handler sse_once(std::string body) {
  return [body = std::move(body)](connection& c) {
    if (c.send_head(200)) {
      c.send(body);
    }
    c.close();
  };
}

/// Answers `status` with `headers` and `body`, then closes. Adds Content-Length unless
/// `headers` has Content-Length or Transfer-Encoding.
inline handler status_only(int status, header_list headers = {}, std::string body = {}) {
  if (!detail::has_header(headers, "Content-Length") &&
      !detail::has_header(headers, "Transfer-Encoding")) {
    headers.emplace_back("Content-Length", std::to_string(body.size()));
  }
  return [status, headers = std::move(headers), body = std::move(body)](connection& c) {
    if (c.send_head(status, headers)) {
      c.send(body);
    }
    c.close();
  };
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_TEST_SERVER_HPP
