// SPDX-License-Identifier: MIT
// The socket calls the test servers and tests make, on POSIX sockets or on Winsock: one name for
// each call, and on Linux exactly the POSIX call.
#ifndef SSE_CLIENT_TESTS_SUPPORT_SOCKET_HPP
#define SSE_CLIENT_TESTS_SUPPORT_SOCKET_HPP

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstddef>
#include <system_error>

namespace sse_test {

#ifdef _WIN32
using socket_t = SOCKET;
constexpr socket_t invalid_socket = INVALID_SOCKET;
using poll_entry = WSAPOLLFD;
// WSAPoll rejects the priority-band bits that POLLIN and POLLOUT carry.
constexpr short poll_in = POLLRDNORM;
constexpr short poll_out = POLLWRNORM;
constexpr int send_flags = 0; // Winsock raises no SIGPIPE
constexpr int shut_write = SD_SEND;
using socket_length = int;
#else
using socket_t = int;
constexpr socket_t invalid_socket = -1;
using poll_entry = pollfd;
constexpr short poll_in = POLLIN;
constexpr short poll_out = POLLOUT;
constexpr int send_flags = MSG_NOSIGNAL; // a vanished peer is an error, not SIGPIPE
constexpr int shut_write = SHUT_WR;
using socket_length = socklen_t;
#endif

/// The last socket call's error code (errno, or WSAGetLastError() on Windows).
inline int socket_error() noexcept {
#ifdef _WIN32
  return WSAGetLastError();
#else
  return errno;
#endif
}

inline bool socket_would_block(int error) noexcept {
#ifdef _WIN32
  return error == WSAEWOULDBLOCK;
#else
  return error == EAGAIN || error == EWOULDBLOCK;
#endif
}

inline bool socket_interrupted(int error) noexcept {
#ifdef _WIN32
  return error == WSAEINTR;
#else
  return error == EINTR;
#endif
}

[[noreturn]] inline void throw_socket_error(const char* what) {
#ifdef _WIN32
  throw std::system_error(WSAGetLastError(), std::system_category(), what);
#else
  throw std::system_error(errno, std::generic_category(), what);
#endif
}

/// Starts Winsock once for the process (nothing to do elsewhere); every helper that makes a
/// socket calls it first.
inline void init_sockets() {
#ifdef _WIN32
  static const int started = [] {
    WSADATA data{};
    return WSAStartup(MAKEWORD(2, 2), &data);
  }();
  if (started != 0) {
    throw std::system_error(started, std::system_category(), "WSAStartup");
  }
#endif
}

inline int close_socket(socket_t s) noexcept {
#ifdef _WIN32
  return ::closesocket(s);
#else
  return ::close(s);
#endif
}

inline int poll_sockets(poll_entry* entries, std::size_t count, int timeout_ms) noexcept {
#ifdef _WIN32
  return ::WSAPoll(entries, static_cast<ULONG>(count), timeout_ms);
#else
  return ::poll(entries, static_cast<nfds_t>(count), timeout_ms);
#endif
}

/// A TCP socket (not inherited by child processes), or invalid_socket.
inline socket_t tcp_socket() {
  init_sockets();
#ifdef _WIN32
  return ::WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
#else
  return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
#endif
}

/// An int-valued socket option; 0 or -1 as setsockopt().
inline int set_socket_option(socket_t s, int level, int name, int value) noexcept {
#ifdef _WIN32
  return ::setsockopt(s, level, name, reinterpret_cast<const char*>(&value), sizeof value);
#else
  return ::setsockopt(s, level, name, &value, sizeof value);
#endif
}

/// SO_LINGER on with a 0 s timeout: close() then resets the connection (a TCP RST).
inline int set_linger_zero(socket_t s) noexcept {
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
#ifdef _WIN32
  return ::setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&lg), sizeof lg);
#else
  return ::setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
#endif
}

/// send() of at most `size` bytes; the count sent, or -1 (socket_error() says why).
inline std::ptrdiff_t send_some(socket_t s, const char* data, std::size_t size) noexcept {
#ifdef _WIN32
  constexpr std::size_t most = 1 << 30;
  return ::send(s, data, static_cast<int>(size < most ? size : most), send_flags);
#else
  return ::send(s, data, size, send_flags);
#endif
}

/// recv() of at most `size` bytes; the count received, 0 at the end, or -1.
inline std::ptrdiff_t recv_some(socket_t s, char* data, std::size_t size) noexcept {
#ifdef _WIN32
  constexpr std::size_t most = 1 << 30;
  return ::recv(s, data, static_cast<int>(size < most ? size : most), 0);
#else
  return ::recv(s, data, size, 0);
#endif
}

/// True when this Windows program runs under Wine (its ntdll exports wine_get_version): a test
/// names each difference from Windows it allows there.
inline bool under_wine() noexcept {
#ifdef _WIN32
  const HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
  return ntdll != nullptr &&
         reinterpret_cast<void*>(::GetProcAddress(ntdll, "wine_get_version")) != nullptr;
#else
  return false;
#endif
}

} // namespace sse_test

#endif // SSE_CLIENT_TESTS_SUPPORT_SOCKET_HPP
