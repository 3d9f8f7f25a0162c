// SPDX-License-Identifier: MIT
// TLS: verification is on by default. Certificates are made at test time with the openssl CLI,
// and `openssl s_server -HTTP` serves a stream over HTTPS on 127.0.0.1.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace std::chrono_literals;
using sse_test::recorder;
using sse_test::wait_until;

namespace {

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

// A CA, a certificate for 127.0.0.1 signed by it, and one for another name; in a temp dir.
struct certificates {
  std::string dir;
  certificates() {
    char pattern[] = "/tmp/sse-tls-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir = pattern;
    const std::string d = dir + "/";
    REQUIRE(run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sse-test-ca -keyout " +
                d + "ca.key -out " + d + "ca.pem") == 0);
    for (const auto& [name, san] : {std::pair<std::string, std::string>{"good", "IP:127.0.0.1"},
                                    {"wrong", "DNS:wrong.example"}}) {
      std::ofstream(d + name + ".ext") << "subjectAltName=" << san << "\n";
      REQUIRE(run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + d + name +
                  ".key -out " + d + name + ".csr") == 0);
      REQUIRE(run("openssl x509 -req -in " + d + name + ".csr -CA " + d + "ca.pem -CAkey " + d +
                  "ca.key -CAcreateserial -days 2 -extfile " + d + name + ".ext -out " + d + name +
                  ".pem") == 0);
    }
    // s_server -HTTP serves files from its working directory; each holds a whole response.
    std::ofstream(d + "events") << "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                                << "id: 1\ndata: secure\n\n";
  }
  ~certificates() { run("rm -rf " + dir); }
};

// `openssl s_server` with the named certificate, until destroyed.
class https_server {
public:
  https_server(const certificates& certs, const std::string& name)
      : port_(sse_test::unused_port()) {
    const std::string cert = certs.dir + "/" + name + ".pem";
    const std::string key = certs.dir + "/" + name + ".key";
    const std::string accept = "127.0.0.1:" + std::to_string(port_);
    std::string args[] = {"openssl", "s_server", "-quiet", "-HTTP", "-accept",
                          accept,    "-cert",    cert,     "-key",  key};
    char* argv[std::size(args) + 1] = {};
    for (std::size_t i = 0; i < std::size(args); ++i) {
      argv[i] = args[i].data();
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    // s_server -HTTP finds the served files relative to its working directory.
    posix_spawn_file_actions_addchdir_np(&actions, certs.dir.c_str());
    const int rc = posix_spawnp(&pid_, "openssl", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    REQUIRE(wait_until([&] { return accepting(); }, 10s));
  }
  https_server(const https_server&) = delete;
  https_server& operator=(const https_server&) = delete;
  ~https_server() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_) + "/events";
  }

private:
  bool accepting() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return ok;
  }
  std::uint16_t port_;
  pid_t pid_ = -1;
};

struct outcome {
  recorder<sse::event> events;
  recorder<sse::error> errors;
  recorder<sse::close_reason> closes;
};

void follow(const std::string& url, const sse::tls_options& tls, outcome& seen) {
  sse::client_options options;
  options.url = url;
  options.tls = tls;
  options.reconnect_on_end = false;
  sse::client client(options);
  client.on_message([&](const sse::event& e) { seen.events.push(e); });
  client.on_error([&](const sse::error& e) { seen.errors.push(e); });
  client.on_close([&](sse::close_reason r) { seen.closes.push(r); });
  client.start();
  REQUIRE(client.wait_for(10s));
}

} // namespace

TEST_CASE("tls: verification is on by default, the CA option and insecure are explicit",
          "[tls][integration]") {
  certificates certs;
  https_server good(certs, "good");
  SECTION("an untrusted certificate fails with tls and no event, not retried") {
    outcome seen;
    follow(good.url(), {}, seen);
    CHECK(seen.events.size() == 0);
    REQUIRE(seen.errors.size() == 1);
    CHECK(seen.errors.snapshot()[0].code == sse::errc::tls);
    CHECK_FALSE(seen.errors.snapshot()[0].will_retry);
    CHECK(seen.closes.snapshot() == std::vector<sse::close_reason>{sse::close_reason::failed});
  }
  SECTION("trusting the CA makes it pass") {
    outcome seen;
    sse::tls_options tls;
    tls.ca_file = certs.dir + "/ca.pem";
    follow(good.url(), tls, seen);
    REQUIRE(seen.events.size() == 1);
    CHECK(seen.events.snapshot()[0] == sse::event{"message", "secure", "1"});
  }
  SECTION("insecure skips verification") {
    outcome seen;
    sse::tls_options tls;
    tls.insecure = true;
    follow(good.url(), tls, seen);
    CHECK(seen.events.size() == 1);
  }
}

TEST_CASE("tls: a host name mismatch fails even with the right CA", "[tls][integration]") {
  certificates certs;
  https_server wrong(certs, "wrong");
  outcome seen;
  sse::tls_options tls;
  tls.ca_file = certs.dir + "/ca.pem";
  follow(wrong.url(), tls, seen);
  CHECK(seen.events.size() == 0);
  REQUIRE(seen.errors.size() == 1);
  CHECK(seen.errors.snapshot()[0].code == sse::errc::tls);
}
