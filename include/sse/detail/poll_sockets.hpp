// SPDX-License-Identifier: MIT
// The socket calls of the portable loop backend, alike on POSIX and Windows: poll() or
// WSAPoll, closing, and a pair of connected sockets through which one thread wakes another.
#ifndef SSE_CLIENT_DETAIL_POLL_SOCKETS_HPP
#define SSE_CLIENT_DETAIL_POLL_SOCKETS_HPP

#include <sse/version.hpp>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstddef>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {
namespace poll_sockets {

#ifdef _WIN32
using socket_type = SOCKET;
using entry_type = WSAPOLLFD;
constexpr socket_type no_socket = INVALID_SOCKET;
// WSAPoll rejects the priority-band bits that POLLIN and POLLOUT carry.
constexpr int in_events = POLLRDNORM;
constexpr int out_events = POLLWRNORM;
inline void close_socket(socket_type s) noexcept {
  closesocket(s);
}
#else
using socket_type = int;
using entry_type = pollfd;
constexpr socket_type no_socket = -1;
constexpr int in_events = POLLIN;
constexpr int out_events = POLLOUT;
inline void close_socket(socket_type s) noexcept {
  ::close(s);
}
#endif

inline entry_type entry(socket_type s, int events) noexcept {
  entry_type e{};
  e.fd = s;
  e.events = static_cast<short>(events);
  return e;
}

inline void drain(socket_type s) noexcept {
#ifdef _WIN32
  constexpr int size = 64;
#else
  constexpr std::size_t size = 64;
#endif
  char bytes[size];
  // Bounded: wake-ups left over make the next wait return at once, which drains them.
  for (int i = 0; i < 16; ++i) {
    if (::recv(s, bytes, size, 0) < static_cast<long>(size)) {
      break;
    }
  }
}

#ifdef _WIN32
// No socketpair() on Windows: a TCP connection over the loopback, checked to be our own.
inline bool make_socket_pair(socket_type& read_end, socket_type& write_end) noexcept {
  const socket_type listener = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (listener == INVALID_SOCKET) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  int length = static_cast<int>(sizeof address);
  auto* name = reinterpret_cast<sockaddr*>(&address);
  bool ok = ::bind(listener, name, length) == 0 && ::listen(listener, 1) == 0 &&
            ::getsockname(listener, name, &length) == 0;
  if (ok) {
    write_end = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ok = write_end != INVALID_SOCKET && ::connect(write_end, name, length) == 0;
  }
  if (ok) {
    read_end = ::accept(listener, nullptr, nullptr);
    ok = read_end != INVALID_SOCKET;
  }
  closesocket(listener);
  if (ok) {
    // Another local program could have connected to the listener first.
    sockaddr_in mine{};
    sockaddr_in peer{};
    int mine_length = static_cast<int>(sizeof mine);
    int peer_length = static_cast<int>(sizeof peer);
    ok = ::getsockname(write_end, reinterpret_cast<sockaddr*>(&mine), &mine_length) == 0 &&
         ::getpeername(read_end, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0 &&
         mine.sin_port == peer.sin_port && mine.sin_addr.s_addr == peer.sin_addr.s_addr;
  }
  if (ok) {
    // A wake-up is one byte: sent at once, not held back for the last one's ACK (Nagle).
    const BOOL on = TRUE;
    u_long non_blocking = 1;
    const auto fionbio = static_cast<long>(FIONBIO); // an unsigned constant for a long
    ok = ::setsockopt(write_end, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on),
                      static_cast<int>(sizeof on)) == 0 &&
         ioctlsocket(read_end, fionbio, &non_blocking) == 0 &&
         ioctlsocket(write_end, fionbio, &non_blocking) == 0;
  }
  return ok;
}
#else
inline bool make_socket_pair(socket_type& read_end, socket_type& write_end) noexcept {
  int pair[2] = {-1, -1};
  int type = SOCK_STREAM;
#ifdef SOCK_CLOEXEC
  type |= SOCK_CLOEXEC;
#endif
  if (::socketpair(AF_UNIX, type, 0, pair) != 0) {
    return false;
  }
  read_end = pair[0];
  write_end = pair[1];
  for (const int fd : pair) {
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return false;
    }
  }
  return true;
}
#endif

// A byte to `s`: a full buffer (would block) already holds a wake-up.
inline void poke(socket_type s) noexcept {
#ifdef _WIN32
  const char byte = 1;
  (void)::send(s, &byte, 1, 0);
#else
  const int saved = errno;
  const char byte = 1;
  (void)!::send(s, &byte, 1, 0);
  errno = saved;
#endif
}

/// poll() over `count` entries, or WSAPoll; `interrupted` says whether a failure was only a
/// signal (EINTR), which is no failure.
inline int poll(entry_type* entries, std::size_t count, int timeout_ms,
                bool& interrupted) noexcept {
#ifdef _WIN32
  const int result = WSAPoll(entries, static_cast<ULONG>(count), timeout_ms);
  interrupted = result < 0 && WSAGetLastError() == WSAEINTR;
#else
  const int result = ::poll(entries, static_cast<nfds_t>(count), timeout_ms);
  interrupted = result < 0 && errno == EINTR;
#endif
  return result;
}

} // namespace poll_sockets
} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_POLL_SOCKETS_HPP
