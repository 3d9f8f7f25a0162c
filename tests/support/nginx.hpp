// SPDX-License-Identifier: MIT
// A local nginx for tests and benchmarks: TLS + HTTP/2 in front of a loopback SSE backend, with a
// certificate made at start and stub_status to count the connections it accepted.
#ifndef SSE_CLIENT_TESTS_SUPPORT_NGINX_HPP
#define SSE_CLIENT_TESTS_SUPPORT_NGINX_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace sse_test {

/// nginx's stub_status figures. The counters are nginx-wide: every listener, status requests too.
struct nginx_status {
  long active = 0;   ///< client connections open now, this status request's included
  long accepts = 0;  ///< client connections accepted since start, this one included
  long handled = 0;  ///< of those, handled (not dropped for lack of resources)
  long requests = 0; ///< requests since start (an HTTP/2 stream is one)
};

/// nginx as a child process of this one, running as the current user with every path (config,
/// certificate, pid, logs, temporary files) in a temporary directory removed by the destructor.
/// Listens on 127.0.0.1: `https_url()` (TLS, HTTP/2 by ALPN or HTTP/1.1), `https_http1_url()`
/// (TLS, HTTP/1.1 only), `h2c_url()` (cleartext HTTP/2 with prior knowledge) and `status()`
/// (stub_status, cleartext). The stream listeners proxy to `127.0.0.1:backend_port` without
/// buffering, adding `X-Client-Protocol`
/// ($server_protocol, e.g. "HTTP/2.0") and `X-Client-Connection` (nginx's serial number of the
/// client connection) to each proxied request. Throws std::runtime_error when nginx is missing or
/// does not come up within 10 s. Make it on a thread that outlives it: nginx is killed when the
/// thread that started it ends (so a crashed test leaves none behind).
class nginx_proxy {
public:
  explicit nginx_proxy(std::uint16_t backend_port) {
    const std::string binary = find_binary();
    char pattern[] = "/tmp/sse-nginx-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("nginx_proxy: mkdtemp failed");
    }
    dir_ = pattern;
    try {
      make_certificate();
      // A port taken between choosing and nginx's bind() makes it exit: choose again.
      for (int attempt = 1;; ++attempt) {
        https_port_ = free_port();
        https_http1_port_ = free_port();
        h2c_port_ = free_port();
        status_port_ = free_port();
        write_config(backend_port);
        spawn(binary);
        if (wait_ready(std::chrono::seconds(10))) {
          return;
        }
        const bool exited = pid_ < 0;
        stop_process();
        if (!exited || attempt == 3) {
          throw std::runtime_error("nginx_proxy: nginx did not start; " + dir_ +
                                   "/error.log says:\n" + read_file(dir_ + "/error.log"));
        }
      }
    } catch (...) {
      stop_process();
      remove_dir();
      throw;
    }
  }
  nginx_proxy(const nginx_proxy&) = delete;
  nginx_proxy& operator=(const nginx_proxy&) = delete;
  ~nginx_proxy() {
    stop_process();
    remove_dir();
  }

  /// `https://127.0.0.1:PORT` followed by `path`.
  std::string https_url(const std::string& path = "/") const {
    return "https://127.0.0.1:" + std::to_string(https_port_) + path;
  }
  /// As `https_url()`, from a listener that offers no HTTP/2.
  std::string https_http1_url(const std::string& path = "/") const {
    return "https://127.0.0.1:" + std::to_string(https_http1_port_) + path;
  }
  /// `http://127.0.0.1:PORT` followed by `path`: HTTP/2 in cleartext, prior knowledge only.
  std::string h2c_url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(h2c_port_) + path;
  }
  /// The log of `/once`, a location that answers any request with two events and ends: a line a
  /// request, "CONNECTION REQUESTS_ON_IT SSL_REUSED PROTOCOL METHOD" (e.g. "3 2 . HTTP/2.0 POST";
  /// SSL_REUSED is "r" for a resumed TLS session, "." otherwise).
  std::string once_log() const { return dir_ + "/once.log"; }
  /// The self-signed certificate nginx presents (for 127.0.0.1): trust it as the CA file.
  std::string ca_file() const { return dir_ + "/cert.pem"; }
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }

  /// Asks stub_status over a connection of its own (counted in the figures); throws
  /// std::runtime_error when nginx does not answer within 5 s.
  nginx_status status() const {
    const std::optional<nginx_status> s = try_status();
    if (!s) {
      throw std::runtime_error("nginx_proxy: no stub_status answer");
    }
    return *s;
  }

private:
  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static std::string find_binary() {
    std::vector<std::string> dirs = {"/usr/sbin", "/usr/local/sbin"};
    if (const char* path = std::getenv("PATH")) {
      std::stringstream entries(path);
      for (std::string entry; std::getline(entries, entry, ':');) {
        dirs.push_back(entry);
      }
    }
    for (const auto& d : dirs) {
      const std::string candidate = d + "/nginx";
      if (!d.empty() && ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    throw std::runtime_error("nginx_proxy: nginx is not installed (tools/install-deps.sh "
                             "installs nginx-light)");
  }

  // A loopback port nobody listens on right now (bound, then closed).
  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
  }

  void make_certificate() const {
    // P-256: quick to make, and the handshakes of a thousand streams stay cheap.
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("nginx_proxy: openssl could not make a certificate");
    }
  }

  void write_config(std::uint16_t backend_port) const {
    const std::string d = dir_;
    // As root, nginx would chown its temporary directories to "nobody": name ourselves instead.
    std::string user;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwuid(::geteuid());
      const group* gr = ::getgrgid(::getegid());
      if (pw != nullptr && gr != nullptr) {
        user = std::string("user ") + pw->pw_name + " " + gr->gr_name + ";\n";
      }
    }
    const std::string proxy = "    location / {\n"
                              "      proxy_pass http://127.0.0.1:" +
                              std::to_string(backend_port) +
                              ";\n"
                              "      proxy_http_version 1.1;\n"
                              "      proxy_buffering off;\n"
                              "      proxy_read_timeout 1h;\n"
                              "      proxy_set_header X-Client-Protocol $server_protocol;\n"
                              "      proxy_set_header X-Client-Connection $connection;\n"
                              "    }\n"
                              // A short SSE answer that ends, for any method, logged per request.
                              "    location = /once {\n"
                              "      access_log " +
                              d +
                              "/once.log once;\n"
                              "      default_type text/event-stream;\n"
                              "      return 200 \"data: one\\n\\ndata: two\\n\\n\";\n"
                              "    }\n";
    std::ofstream(d + "/nginx.conf")
        << user << "daemon off;\n"
        << "master_process off;\n" // one process, ours to stop; stub_status counts it all
        << "pid " << d << "/nginx.pid;\n"
        << "error_log " << d << "/error.log notice;\n"
        << "events { worker_connections 16384; }\n"
        << "http {\n"
        << "  access_log off;\n"
        << "  log_format once '$connection $connection_requests $ssl_session_reused "
           "$server_protocol $request_method';\n"
        << "  client_body_temp_path " << d << "/client_body;\n"
        << "  proxy_temp_path " << d << "/proxy;\n"
        << "  fastcgi_temp_path " << d << "/fastcgi;\n"
        << "  uwsgi_temp_path " << d << "/uwsgi;\n"
        << "  scgi_temp_path " << d << "/scgi;\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << https_port_ << " ssl http2;\n"
        << "    ssl_certificate " << d << "/cert.pem;\n"
        << "    ssl_certificate_key " << d << "/key.pem;\n"
        << proxy << "  }\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << https_http1_port_ << " ssl;\n"
        << "    ssl_certificate " << d << "/cert.pem;\n"
        << "    ssl_certificate_key " << d << "/key.pem;\n"
        << proxy << "  }\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << h2c_port_ << " http2;\n"
        << proxy << "  }\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << status_port_ << ";\n"
        << "    location = /status { stub_status; }\n"
        << "  }\n"
        << "}\n";
  }

  void spawn(const std::string& binary) {
    // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
    std::vector<std::string> args = {
        binary, "-p", dir_, "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const std::string out = dir_ + "/stderr.log";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error("nginx_proxy: fork failed");
    }
    if (pid_ == 0) {
      // If this process dies without its destructor running, nginx goes too.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) {
        ::_exit(1);
      }
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }

  // Polls stub_status until it answers; false when nginx exited (pid_ becomes -1) or at the
  // deadline.
  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (try_status()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  std::optional<nginx_status> try_status() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return std::nullopt;
    }
    timeval limit{};
    limit.tv_sec = 5;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(status_port_);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      const std::string request = "GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
        char buf[4096];
        // Ends at nginx's close, or at the receive timeout; the reply is a few hundred bytes.
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0 && reply.size() < 65536;) {
          reply.append(buf, static_cast<std::size_t>(n));
        }
      }
    }
    ::close(fd);
    // "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \nReading: ..."
    const std::size_t active = reply.find("Active connections:");
    const std::size_t counters = reply.find("requests\n");
    if (reply.rfind("HTTP/1.1 200", 0) != 0 || active == std::string::npos ||
        counters == std::string::npos) {
      return std::nullopt;
    }
    nginx_status s;
    std::istringstream(reply.substr(active + 19)) >> s.active;
    std::istringstream(reply.substr(counters + 9)) >> s.accepts >> s.handled >> s.requests;
    return s;
  }

  void stop_process() noexcept {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM); // fast shutdown
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    pid_ = -1;
  }

  void remove_dir() noexcept {
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::uint16_t https_port_ = 0;
  std::uint16_t https_http1_port_ = 0;
  std::uint16_t h2c_port_ = 0;
  std::uint16_t status_port_ = 0;
};

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_NGINX_HPP
