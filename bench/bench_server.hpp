// SPDX-License-Identifier: MIT
// Loopback SSE servers for the benchmarks: a fast corpus streamer and an epoll idle-stream holder.
#ifndef SSE_CLIENT_BENCH_BENCH_SERVER_HPP
#define SSE_CLIENT_BENCH_BENCH_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace sse_bench {

/// The response head every bench server sends: no length, the body ends when the server closes.
inline constexpr std::string_view response_head = "HTTP/1.1 200 OK\r\n"
                                                  "Content-Type: text/event-stream\r\n"
                                                  "Cache-Control: no-cache\r\n"
                                                  "Connection: close\r\n\r\n";

/// steady_clock now in nanoseconds since its epoch (CLOCK_MONOTONIC: the same in every process).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Polls `done` every millisecond until it holds or `limit` passes; true when it held.
template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Raises the open-file limit to the hard limit; returns the new soft limit.
inline std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<std::uint64_t>(lim.rlim_cur);
}

/// Resident set size of this process in KiB, from /proc/self/status.
inline long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

/// Writes all of `bytes` to a blocking socket; false when the peer went away.
inline bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
inline int listen_loopback(std::uint16_t& port, int backlog) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

/// Reads a request head (up to the blank line) from a blocking socket; false on EOF or error.
inline bool read_request_head(int fd) {
  std::string head;
  char buf[4096];
  // Bounded: a request head larger than 64 KiB is not one of ours.
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

/// One thread per connection: reads the request, sends the head, then hands the socket to `body`
/// (which writes the stream with blocking writes); closes the connection when `body` returns.
class stream_server {
public:
  using body_writer = std::function<void(int fd)>;

  explicit stream_server(body_writer body) : body_(std::move(body)) {
    listen_fd_ = listen_loopback(port_, 128);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  stream_server(const stream_server&) = delete;
  stream_server& operator=(const stream_server&) = delete;
  ~stream_server() {
    stopping_.store(true);
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& t : workers_) {
      t.join();
    }
  }

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/stream"; }

private:
  void accept_loop() {
    while (!stopping_.load()) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) {
          continue;
        }
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    // Big socket buffers so each write() moves a lot; NODELAY so small timed events leave at once.
    const int sndbuf = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (read_request_head(fd) && write_all(fd, response_head)) {
      body_(fd);
    }
    // Orderly end: FIN after the last byte, so the client sees a clean end of body.
    ::shutdown(fd, SHUT_WR);
    char sink[256];
    while (::recv(fd, sink, sizeof sink, 0) > 0) {
    }
    ::close(fd);
  }

  body_writer body_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

/// Writes `corpus` to `fd` in large chunks.
inline void write_corpus(int fd, const std::string& corpus) {
  constexpr std::size_t chunk = 1 << 20;
  const std::string_view all(corpus);
  for (std::size_t at = 0; at < all.size(); at += chunk) {
    if (!write_all(fd, all.substr(at, chunk))) {
      return;
    }
  }
}

/// Holds many idle SSE connections on one epoll thread: accepts, answers each request with the
/// head and one comment, then keeps the connection. `fan_out` writes one event to all of them.
/// Meant to run in a process of its own (see `idle_server_process`), so that the client's
/// process has its file descriptors and CPU time to itself.
class idle_server {
public:
  idle_server() {
    listen_fd_ = listen_loopback(port_, 4096);
    ::fcntl(listen_fd_, F_SETFL, O_NONBLOCK);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    add(listen_fd_);
  }
  idle_server(const idle_server&) = delete;
  idle_server& operator=(const idle_server&) = delete;
  ~idle_server() {
    for (const int fd : answered_) {
      ::close(fd);
    }
    for (const int fd : pending_) {
      ::close(fd);
    }
    ::close(epoll_fd_);
    ::close(listen_fd_);
  }

  std::uint16_t port() const noexcept { return port_; }
  std::size_t held() const noexcept { return answered_.size(); }

  /// Handles what is ready, waiting at most `timeout_ms`; `extra_fd` (e.g. a command pipe) is
  /// watched too and reported by returning true when readable.
  bool poll_once(int timeout_ms, int extra_fd) {
    if (extra_fd >= 0 && !extra_added_) {
      add(extra_fd);
      extra_added_ = true;
    }
    epoll_event ready[256];
    const int n = ::epoll_wait(epoll_fd_, ready, 256, timeout_ms);
    bool extra = false;
    for (int i = 0; i < n; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == extra_fd) {
        extra = true;
      } else {
        readable(fd);
      }
    }
    return extra;
  }

  /// Writes `event` to every held connection; returns how many took it whole.
  std::size_t fan_out(std::string_view event) {
    std::size_t sent = 0;
    for (const int fd : answered_) {
      if (::send(fd, event.data(), event.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
          static_cast<ssize_t>(event.size())) {
        ++sent;
      }
    }
    return sent;
  }

  /// Writes `event` to one held connection, the next in turn; true when it took it whole.
  bool send_one(std::string_view event) {
    if (answered_.empty()) {
      return false;
    }
    if (order_.size() != answered_.size()) {
      order_.assign(answered_.begin(), answered_.end());
      next_ = 0;
    }
    const int fd = order_[next_++ % order_.size()];
    return ::send(fd, event.data(), event.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
           static_cast<ssize_t>(event.size());
  }

private:
  void add(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void accept_all() {
    // Bounded by the backlog: accept4 fails with EAGAIN once it is empty.
    for (int i = 0; i < 4096; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      pending_.insert(fd);
      add(fd);
    }
  }

  void readable(int fd) {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      pending_.erase(fd);
      answered_.erase(fd);
      ::close(fd);
      return;
    }
    // A request head arrives in one segment on loopback; answer at its first byte.
    if (n > 0 && pending_.erase(fd) != 0) {
      std::string reply(response_head);
      reply += ": hello\n\n";
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      answered_.insert(fd);
    }
  }

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  std::uint16_t port_ = 0;
  bool extra_added_ = false;
  std::unordered_set<int> pending_;  // accepted, no request yet
  std::unordered_set<int> answered_; // streaming: head and comment sent
  std::vector<int> order_;           // answered_ in a fixed order, for send_one
  std::size_t next_ = 0;
};

/// An `idle_server` in a forked child process, driven over pipes: `fan_out()` makes the child
/// write one event stamped with its send time (steady_clock ns) to every held connection.
class idle_server_process {
public:
  idle_server_process() {
    int to_child[2];
    int to_parent[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(to_parent, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(to_parent[0]);
      child(to_child[0], to_parent[1]);
      std::_Exit(0);
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    command_fd_ = to_child[1];
    reply_fd_ = to_parent[0];
    port_ = static_cast<std::uint16_t>(read_reply());
  }
  idle_server_process(const idle_server_process&) = delete;
  idle_server_process& operator=(const idle_server_process&) = delete;
  ~idle_server_process() {
    send_command('Q');
    ::close(command_fd_);
    ::close(reply_fd_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/idle"; }
  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  /// How many connections the child holds (answered).
  std::uint64_t held() {
    send_command('H');
    return read_reply();
  }

  /// What a fan-out did: connections that took the event, and how long the write loop took.
  struct fan_out_result {
    std::uint64_t sent = 0;
    std::uint64_t write_ns = 0;
  };

  /// The child writes "data: <send time ns>\n\n" (stamped before the first write) to every held
  /// connection.
  /// The child writes one stamped event to one held connection (the next in turn); true when
  /// it took it.
  bool send_one() {
    send_command('O');
    return read_reply() != 0;
  }

  fan_out_result fan_out() {
    send_command('F');
    fan_out_result result;
    result.sent = read_reply();
    result.write_ns = read_reply();
    return result;
  }

private:
  static void child(int commands, int replies) {
    raise_fd_limit();
    idle_server server;
    const auto reply = [replies](std::uint64_t value) {
      (void)!::write(replies, &value, sizeof value);
    };
    reply(server.port());
    while (true) {
      if (!server.poll_once(1000, commands)) {
        continue;
      }
      char command = 0;
      if (::read(commands, &command, 1) != 1 || command == 'Q') {
        return;
      }
      if (command == 'H') {
        reply(server.held());
      } else if (command == 'O') {
        reply(server.send_one("data: " + std::to_string(now_ns()) + "\n\n") ? 1 : 0);
      } else if (command == 'F') {
        const std::int64_t start = now_ns();
        const std::string event = "data: " + std::to_string(start) + "\n\n";
        reply(server.fan_out(event));
        reply(static_cast<std::uint64_t>(now_ns() - start));
      }
    }
  }

  void send_command(char c) { (void)!::write(command_fd_, &c, 1); }

  std::uint64_t read_reply() {
    std::uint64_t value = 0;
    if (::read(reply_fd_, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) {
      throw std::runtime_error("idle server process: no reply");
    }
    return value;
  }

  pid_t pid_ = -1;
  int command_fd_ = -1;
  int reply_fd_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace sse_bench
#endif // SSE_CLIENT_BENCH_BENCH_SERVER_HPP
