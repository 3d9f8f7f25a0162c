// SPDX-License-Identifier: MIT
// The example programs against a local server: the asio and libuv hosts print each event from
// their own loop's thread; shutdown ends cleanly on SIGINT in both of its modes.
#include "support/client_support.hpp"
#include "support/test_server.hpp"
#include <catch2/catch.hpp>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

extern char** environ;

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::test_server;

namespace {

// A running example with its stdout on a pipe; killed if still running at the end.
class example_process {
public:
  explicit example_process(std::vector<std::string> args) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
    REQUIRE(rc == 0);
  }
  example_process(const example_process&) = delete;
  example_process& operator=(const example_process&) = delete;
  ~example_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }

  /// Reads output until it contains `text` or the deadline; true when it does.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output.find(text) == std::string::npos) { // bounded by the deadline
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !read_some(static_cast<int>(left.count()))) {
        return output.find(text) != std::string::npos;
      }
    }
    return true;
  }

  /// Waits for the exit (reading the rest of the output); its status, or -1 at the deadline.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) { // bounded by the deadline
      read_some(10);
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (read_some(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }

  void signal(int sig) { kill(pid_, sig); }

  std::string output;

private:
  // Up to `timeout_ms` for bytes; false at end of output or when none came.
  bool read_some(int timeout_ms) {
    pollfd p{};
    p.fd = out_;
    p.events = POLLIN;
    if (poll(&p, 1, timeout_ms) != 1) {
      return false;
    }
    char buffer[4096];
    const ssize_t n = read(out_, buffer, sizeof buffer);
    if (n <= 0) {
      return false;
    }
    output.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
};

// Five events, then the stream stays open until the client goes.
void five_events(connection& c) {
  c.send_head(200);
  for (int i = 1; i <= 5; ++i) {
    c.send("id: " + std::to_string(i) + "\ndata: tick " + std::to_string(i) + "\n\n");
  }
  c.wait_closed_by_peer(30s);
}

[[maybe_unused]] void check_host_example(const char* path) {
  test_server server(five_events);
  example_process example({path, server.url(), "3"});
  CHECK(example.wait_exit(20s) == 0);
  CHECK(example.output == "open 200 [host thread]\n"
                          "event 1: tick 1 [host thread]\n"
                          "event 2: tick 2 [host thread]\n"
                          "event 3: tick 3 [host thread]\n"
                          "closed [host thread]\n");
}

} // namespace

#ifdef SSE_CLIENT_EXAMPLE_ASIO_LOOP
TEST_CASE("examples: asio_loop prints events from asio's thread and exits 0",
          "[examples][external][integration]") {
  check_host_example(SSE_CLIENT_EXAMPLE_ASIO_LOOP);
}
#endif

#ifdef SSE_CLIENT_EXAMPLE_UV_LOOP
TEST_CASE("examples: uv_loop prints events from libuv's thread and exits 0",
          "[examples][external][integration]") {
  check_host_example(SSE_CLIENT_EXAMPLE_UV_LOOP);
}
#endif

#ifdef SSE_CLIENT_EXAMPLE_SHUTDOWN
TEST_CASE("examples: shutdown ends the stream cleanly on SIGINT and SIGTERM, in both modes",
          "[examples][shutdown][integration]") {
  const std::vector<std::string> mode =
      GENERATE(std::vector<std::string>{}, std::vector<std::string>{"--caller-thread"});
  const int sig = GENERATE(SIGINT, SIGTERM);
  test_server server([](connection& c) {
    c.send_head(200);
    c.send("id: 7\ndata: one\n\n");
    c.wait_closed_by_peer(30s);
  });
  std::vector<std::string> args{SSE_CLIENT_EXAMPLE_SHUTDOWN};
  args.insert(args.end(), mode.begin(), mode.end());
  args.push_back(server.url());
  example_process example(args);
  REQUIRE(example.wait_for_output("event 7: one\n", 10s));
  example.signal(sig);
  CHECK(example.wait_exit(10s) == 0);
  CHECK(example.output == "event 7: one\ninterrupted; last event id: 7\n");
}
#endif

#ifdef SSE_CLIENT_EXAMPLE_PULL
TEST_CASE("examples: pull prints events, and ends cleanly on a signal or a 204",
          "[examples][pull][integration][issue-23]") {
  SECTION("SIGINT or SIGTERM closes the stream") {
    const int sig = GENERATE(SIGINT, SIGTERM);
    test_server server([](connection& c) {
      c.send_head(200);
      c.send("id: 7\ndata: one\n\nid: 8\ndata: two\n\n");
      c.wait_closed_by_peer(30s);
    });
    example_process example({SSE_CLIENT_EXAMPLE_PULL, server.url()});
    REQUIRE(example.wait_for_output("event 8: two\n", 10s));
    example.signal(sig);
    CHECK(example.wait_exit(10s) == 0);
    CHECK(example.output == "event 7: one\nevent 8: two\nended (closed); last event id: 8\n");
  }
  SECTION("the server's 204 ends it") {
    test_server server([](connection& c) {
      if (c.req().header("Last-Event-ID")) {
        c.send_head(204, {{"Content-Length", "0"}});
      } else {
        c.send_head(200);
        c.send("id: 1\ndata: only\n\n");
      }
      c.close();
    });
    example_process example({SSE_CLIENT_EXAMPLE_PULL, server.url()});
    CHECK(example.wait_exit(20s) == 0);
    CHECK(example.output == "event 1: only\nended (no_content); last event id: 1\n");
  }
}
#endif
