// SPDX-License-Identifier: MIT
// The ssecat binary against local servers: output, flushing, exit codes, usage errors.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/nginx.hpp"
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::stream_headers;
using sse_test::test_server;

namespace {

// Where a test's ssecat writes its events.
enum class output {
  pipe,        // a pipe the test reads into `out`
  unread_pipe, // a pipe nobody reads: once full, ssecat's writes block
  closed_pipe, // a pipe whose reading end is closed at once
  full_disk,   // /dev/full: every write fails with ENOSPC
};

// A running ssecat with its stdout and stderr on pipes. Killed if still running at the end.
class ssecat_process {
public:
  explicit ssecat_process(const std::vector<std::string>& args, output to = output::pipe) {
    int out_pipe[2];
    int err_pipe[2];
    REQUIRE(pipe(out_pipe) == 0);
    REQUIRE(pipe(err_pipe) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (to == output::full_disk) {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/full", O_WRONLY, 0);
    } else {
      posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    }
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    std::vector<std::string> argv_strings{SSECAT_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, SSECAT_PATH, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_ = out_pipe[0];
    err_ = err_pipe[0];
    REQUIRE(rc == 0);
    if (to == output::closed_pipe || to == output::full_disk) {
      close(out_);
      out_ = -1;
    }
    out_open_ = to == output::pipe;
  }
  ssecat_process(const ssecat_process&) = delete;
  ssecat_process& operator=(const ssecat_process&) = delete;
  ~ssecat_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) {
      close(out_);
    }
    close(err_);
  }

  // Reads until stdout holds `lines` lines, or the deadline passes; returns whether it did.
  bool wait_for_lines(std::size_t lines, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count_lines(out) < lines) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0ms || !pump(std::chrono::duration_cast<std::chrono::milliseconds>(left))) {
        return count_lines(out) >= lines;
      }
    }
    return true;
  }

  // Waits for the exit (reading all output); returns the exit status, or -1 after the timeout.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!pump(20ms) && out_open_ == false && err_open_ == false) {
        break;
      }
    }
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      pump(10ms);
    }
    return -1;
  }

  void signal(int sig) { kill(pid_, sig); }

  // Closes the reading end of stdout, as `head -1` does once it has its line.
  void close_output() {
    close(out_);
    out_ = -1;
    out_open_ = false;
  }

  // Bytes written to stdout and not read yet (for output::unread_pipe).
  int unread_bytes() const {
    int n = 0;
    return ioctl(out_, FIONREAD, &n) == 0 ? n : -1;
  }

  std::string out;
  std::string err;

private:
  static std::size_t count_lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
  }

  // One poll on both pipes; false when both are closed.
  bool pump(std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{out_open_ ? out_ : -1, POLLIN, 0}, {err_open_ ? err_ : -1, POLLIN, 0}};
    if (!out_open_ && !err_open_) {
      return false;
    }
    if (poll(fds, 2, static_cast<int>(timeout.count())) <= 0) {
      return true;
    }
    read_from(fds[0], out_, out_open_, out);
    read_from(fds[1], err_, err_open_, err);
    return true;
  }

  static void read_from(const pollfd& p, int fd, bool& open, std::string& into) {
    if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP)) == 0) {
      return;
    }
    char buffer[65536];
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      open = false;
      return;
    }
    into.append(buffer, static_cast<std::size_t>(n));
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool out_open_ = true;
  bool err_open_ = true;
};

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (text.compare(start, prefix.size(), prefix) == 0) {
      lines.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return lines;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(nlohmann::json::parse(text.substr(start, end - start)));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

} // namespace

TEST_CASE("ssecat: --json escapes control characters and keeps non-ASCII",
          "[ssecat][integration]") {
  // Every control character a data line can hold (CR and LF end lines), quotes, non-ASCII.
  std::string tricky = "quote \" backslash \\ del \x7f é ☃ 😀 ";
  for (char c = 1; c < 0x20; ++c) {
    if (c != '\n' && c != '\r') {
      tricky += c;
    }
  }
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send("id: 7\nevent: odd\ndata: " + tricky + "\ndata: line2\n\ndata: [DONE]\n\n");
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({"--json", "--until", "[DONE]", server.url("/")});
  REQUIRE(p.wait_exit(10s) == 0);
  const auto lines = json_lines(p.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["type"] == "odd");
  CHECK(lines[0]["data"] == tricky + "\nline2");
  CHECK(lines[0]["id"] == "7");
  CHECK(lines[1]["data"] == "[DONE]");
  CHECK(lines[1]["type"] == "message");
  CHECK(p.out.find('\x07') == std::string::npos); // escaped, not raw
  CHECK(p.out.rfind("{\"type\":", 0) == 0);       // type, data, id: in that order
}

TEST_CASE("ssecat: each event is flushed before the next arrives", "[ssecat][integration]") {
  std::atomic<bool> first_seen{false};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: one\n\n");
    for (int i = 0; i < 500 && !first_seen && c.sleep_for(10ms); ++i) {
    }
    c.send("data: two\n\n");
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({"--max-events", "2", server.url("/")});
  REQUIRE(p.wait_for_lines(1, 5s)); // while the server still holds "two" back
  CHECK(p.out == "one\n");
  first_seen = true;
  CHECK(p.wait_exit(5s) == 0);
  CHECK(p.out == "one\ntwo\n");
}

TEST_CASE("ssecat: exit 0 after --max-events, on --until and on 204", "[ssecat][integration]") {
  SECTION("max events") {
    test_server server([](connection& c) {
      c.send_head(200, stream_headers);
      c.send("event: tick\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
      c.wait_closed_by_peer(10s);
    });
    ssecat_process p({"--max-events", "2", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "tick 1\n2\n");
  }
  SECTION("204") {
    test_server server([](connection& c) {
      c.send_head(204, {});
      c.close();
    });
    ssecat_process p({server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("ssecat: exit 1 when the stream fails for good", "[ssecat][integration]") {
  SECTION("404") {
    test_server server([](connection& c) {
      c.send_head(404, {{"Content-Length", "0"}});
      c.close();
    });
    ssecat_process p({server.url("/")});
    CHECK(p.wait_exit(5s) == 1);
    CHECK(p.err.find("404") != std::string::npos);
    CHECK(server.requests().size() == 1);
  }
  SECTION("wrong content type") {
    test_server server([](connection& c) {
      c.send_head(200, {{"Content-Type", "text/html"}, {"Content-Length", "0"}});
      c.close();
    });
    ssecat_process p({server.url("/")});
    CHECK(p.wait_exit(5s) == 1);
    CHECK(p.err.find("text/html") != std::string::npos);
  }
  SECTION("retries exhausted") {
    test_server server([](connection& c) {
      c.send_head(503, {{"Content-Length", "0"}});
      c.close();
    });
    ssecat_process p({"--retry", "0", "--max-retries", "2", server.url("/")});
    CHECK(p.wait_exit(5s) == 1);
    CHECK(server.requests().size() == 3);
  }
}

TEST_CASE("ssecat: usage errors exit 2 naming the option", "[ssecat]") {
  struct expectation {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<expectation> cases{
      {{}, "URL"},
      {{"--max-events", "x", "http://127.0.0.1:1/"}, "--max-events"},
      {{"--retry"}, "--retry"},
      {{"--bogus", "http://127.0.0.1:1/"}, "--bogus"},
      {{"-H", "no colon", "http://127.0.0.1:1/"}, "-H"},
      {{"ftp://127.0.0.1/"}, "URL"},
      {{"-d", "@/nonexistent/file", "http://127.0.0.1:1/"}, "--data"},
      {{"http://127.0.0.1:1/", "--until-event"}, "--until-event"},
  };
  for (const auto& c : cases) {
    ssecat_process p(c.args);
    CAPTURE(c.named);
    CHECK(p.wait_exit(5s) == 2);
    CHECK(p.err.find(c.named) != std::string::npos);
  }
}

TEST_CASE("ssecat: headers, method, body and Last-Event-ID reach the server",
          "[ssecat][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send(++n == 1 ? "id: 5\ndata: a\n\n" : "data: b\n\n");
    c.close(); // a clean end: ssecat reconnects with Last-Event-ID
  });
  ssecat_process p({"-X", "PUT", "-d", "payload", "-H", "Authorization: Bearer x",
                    "--last-event-id", "4", "--retry", "0", "--max-events", "2", server.url("/")});
  CHECK(p.wait_exit(5s) == 0);
  CHECK(p.out == "a\nb\n");
  const auto requests = server.requests();
  REQUIRE(requests.size() >= 2);
  CHECK(requests[0].method == "PUT");
  CHECK(requests[0].body == "payload");
  CHECK(requests[0].header("Authorization") == std::optional<std::string>("Bearer x"));
  CHECK(requests[0].header("Last-Event-ID") == std::optional<std::string>("4"));
  CHECK(requests[1].header("Last-Event-ID") == std::optional<std::string>("5"));
}

TEST_CASE("ssecat: --compressed and the HTTP version options reach the wire",
          "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: " + c.req().header("Accept-Encoding").value_or("none") + "\n\n" +
           "data: " + c.req().header("X-Client-Protocol").value_or("direct") + "\n\n");
    c.wait_closed_by_peer(10s);
  });
  SECTION("--compressed asks for every coding libcurl has") {
    ssecat_process p({"--compressed", "--max-events", "2", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out.find("gzip") != std::string::npos);
    CHECK(p.out.find("br") != std::string::npos);
  }
  SECTION("without it, no Accept-Encoding") {
    ssecat_process p({"--max-events", "1", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "none\n");
  }
  SECTION("--http2-prior-knowledge speaks HTTP/2 in cleartext; --http1.1 does not") {
    sse_test::nginx_proxy nginx(server.port());
    ssecat_process h2({"-v", "--http2-prior-knowledge", "--max-events", "2", nginx.h2c_url("/")});
    CHECK(h2.wait_exit(5s) == 0);
    CHECK(h2.out == "none\nHTTP/2.0\n");
    CHECK(h2.err.find("< HTTP/2 200 text/event-stream from " + nginx.h2c_url("/")) !=
          std::string::npos);
    // Over TLS, --http2 asks for HTTP/2 by ALPN; -v shows it was used.
    ssecat_process tls(
        {"-v", "--http2", "--cacert", nginx.ca_file(), "--max-events", "2", nginx.https_url("/")});
    CHECK(tls.wait_exit(5s) == 0);
    CHECK(tls.out == "none\nHTTP/2.0\n");
    CHECK(tls.err.find("< HTTP/2 200 ") != std::string::npos);
    // The listener speaks only HTTP/2: an HTTP/1.1 request gets no stream.
    ssecat_process h1({"--http1.1", "--max-retries", "1", "--max-events", "2", nginx.h2c_url("/")});
    CHECK(h1.wait_exit(5s) == 1);
    CHECK(h1.out.empty());
  }
}

TEST_CASE("ssecat: -q prints only a summary, Ctrl-C exits 130", "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: 1\n\n");
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({"-q", server.url("/")});
  REQUIRE(sse_test::wait_until([&] { return server.requests().size() == 1; }, 5s));
  p.wait_for_lines(1, 200ms); // nothing comes: -q prints no events
  p.signal(SIGINT);
  CHECK(p.wait_exit(5s) == 130);
  CHECK(p.out.empty());
  CHECK(p.err.find("events") != std::string::npos);
}

TEST_CASE("ssecat: SIGTERM exits 128 + 15", "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: 1\n\n");
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({server.url("/")});
  REQUIRE(p.wait_for_lines(1, 5s));
  p.signal(SIGTERM);
  CHECK(p.wait_exit(5s) == 143);
}

namespace {
// Sends events until the client stops reading and the socket's buffers fill (then send fails at
// the server's stop), at most 100 MB.
test_server::handler flood() {
  return [](connection& c) {
    c.send_head(200, stream_headers);
    std::string events;
    for (int i = 0; i < 1000; ++i) {
      events += "data: " + std::string(100, 'x') + "\n\n";
    }
    for (int i = 0; i < 1000 && c.send(events); ++i) {
    }
  };
}
} // namespace

TEST_CASE("ssecat: Ctrl-C ends it while its output is blocked on a pipe nobody reads",
          "[ssecat][integration]") {
  test_server server(flood());
  ssecat_process p({server.url("/")}, output::unread_pipe);
  // The pipe is full (64 KiB on Linux), so ssecat's loop thread is blocked writing to it.
  REQUIRE(sse_test::wait_until([&] { return p.unread_bytes() >= 60000; }, 5s));
  const auto start = std::chrono::steady_clock::now();
  p.signal(SIGINT);
  CHECK(p.wait_exit(5s) == 130);
  CHECK(std::chrono::steady_clock::now() - start < 3s); // the grace is one second
}

TEST_CASE("ssecat: a second signal during the grace ends it at once", "[ssecat][integration]") {
  test_server server(flood());
  ssecat_process p({server.url("/")}, output::unread_pipe);
  REQUIRE(sse_test::wait_until([&] { return p.unread_bytes() >= 60000; }, 5s));
  const auto start = std::chrono::steady_clock::now();
  p.signal(SIGINT);
  p.signal(SIGTERM); // a different signal: pending signals of one kind would merge into one
  CHECK(p.wait_exit(5s) == 130);
  CHECK(std::chrono::steady_clock::now() - start < 800ms); // not the one-second grace
}

TEST_CASE("ssecat: output that cannot be written ends it with status 1", "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: 1\n\ndata: 2\n\n");
    c.wait_closed_by_peer(10s);
  });
  SECTION("a full disk") {
    ssecat_process p({"--json", server.url("/")}, output::full_disk);
    CHECK(p.wait_exit(5s) == 1);
    CHECK(p.err.find("cannot write the output: No space left on device") != std::string::npos);
  }
  SECTION("a closed pipe, SIGPIPE ignored") {
    // An ignored signal stays ignored in the spawned program.
    const auto previous = std::signal(SIGPIPE, SIG_IGN);
    ssecat_process p({server.url("/")}, output::closed_pipe);
    std::signal(SIGPIPE, previous);
    CHECK(p.wait_exit(5s) == 1);
    CHECK(p.err.find("cannot write the output: Broken pipe") != std::string::npos);
  }
  SECTION("a closed pipe, SIGPIPE at its default") {
    const auto previous = std::signal(SIGPIPE, SIG_DFL);
    ssecat_process p({server.url("/")}, output::closed_pipe);
    std::signal(SIGPIPE, previous);
    CHECK(p.wait_exit(5s) == 1);
    CHECK(p.err.find("cannot write the output: Broken pipe") != std::string::npos);
  }
}

TEST_CASE("ssecat: a reader that leaves after the first line (| head -1) ends it with status 1",
          "[ssecat][integration]") {
  std::atomic<bool> reader_gone{false};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: 1\n\n");
    for (int i = 0; i < 500 && !reader_gone && c.sleep_for(10ms); ++i) {
    }
    c.send("data: 2\n\n");
    c.wait_closed_by_peer(10s);
  });
  // SIGPIPE at its default, as in a shell pipeline: it killed ssecat (status 141).
  const auto previous = std::signal(SIGPIPE, SIG_DFL);
  ssecat_process p({server.url("/")});
  std::signal(SIGPIPE, previous);
  REQUIRE(p.wait_for_lines(1, 5s));
  CHECK(p.out == "1\n");
  p.close_output();
  reader_gone = true;
  const auto left = std::chrono::steady_clock::now();
  CHECK(p.wait_exit(5s) == 1);
  CHECK(std::chrono::steady_clock::now() - left < 2s);
  CHECK(p.err.find("ssecat: cannot write the output: Broken pipe") != std::string::npos);
}

TEST_CASE("ssecat: -v shows each response's HTTP version as curl does", "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: 1\n\n");
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({"-v", "--max-events", "1", server.url("/")});
  CHECK(p.wait_exit(5s) == 0);
  CHECK(lines_starting(p.err, "< ") ==
        std::vector<std::string>{"< HTTP/1.1 200 text/event-stream from " + server.url("/")});
}

TEST_CASE("ssecat: -v prints each reconnect on one line; --no-jitter makes the delays exact",
          "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(503, {{"Content-Length", "0"}});
    c.close();
  });
  ssecat_process p({"-v", "--retry", "150", "--no-jitter", "--max-retries", "3", server.url("/")});
  CHECK(p.wait_exit(5s) == 1);
  CAPTURE(p.err);
  // The reason, the failures in a row, and the delay: --retry doubling at each failure, exactly.
  CHECK(lines_starting(p.err, "! ") ==
        std::vector<std::string>{"! HTTP status 503; failure 1 in a row; reconnecting in 150 ms",
                                 "! HTTP status 503; failure 2 in a row; reconnecting in 300 ms",
                                 "! HTTP status 503; failure 3 in a row; reconnecting in 600 ms",
                                 "! HTTP status 503; failure 4 in a row; not retrying"});
  // -v's last lines: the stream's stats, failures by kind.
  const auto stats = lines_starting(p.err, "* stats: ");
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].find("0 events") != std::string::npos);
  CHECK(stats[0].find("4 attempts, 0 opens, 3 reconnects") != std::string::npos);
  CHECK(stats[1].find("4 failures (http_status 4); last: HTTP status 503") != std::string::npos);
  CHECK(server.requests().size() == 4);
}

TEST_CASE("ssecat: --until-event ends it with status 0 after the first event of that type",
          "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: close\n\nevent: update\ndata: 1\n\nevent: close\ndata: bye\n\n"
           "event: close\ndata: again\n\ndata: after\n\n");
    c.wait_closed_by_peer(10s);
  });
  SECTION("alone: the type matches, never the data") {
    ssecat_process p({"--until-event", "close", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "close\nupdate 1\nclose bye\n");
  }
  SECTION("with --until: whichever comes first") {
    ssecat_process p({"--until-event", "close", "--until", "1", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "close\nupdate 1\n");
  }
  CHECK(server.requests().size() == 1);
}

TEST_CASE("ssecat: --until makes the request one-shot: a cut answer is not sent again",
          "[ssecat][one_shot][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: Hel\n\ndata: lo\n\n");
    c.abort();
  });
  ssecat_process p(
      {"--retry", "0", "-d", "{\"prompt\":\"hi\"}", "--until", "[DONE]", server.url("/")});
  CHECK(p.wait_exit(5s) == 1);
  CHECK(p.out == "Hel\nlo\n");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("ssecat: -u and --oauth2-bearer authenticate to the URL's host",
          "[ssecat][auth][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: " + c.req().header("Authorization").value_or("none") + "\n\n");
    c.wait_closed_by_peer(10s);
  });
  SECTION("-u USER:PASS, basic") {
    ssecat_process p({"-u", "user:pass", "--max-events", "1", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "Basic dXNlcjpwYXNz\n");
  }
  SECTION("--oauth2-bearer") {
    ssecat_process p({"--oauth2-bearer", "tok-1", "--max-events", "1", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "Bearer tok-1\n");
  }
}

TEST_CASE("ssecat: -b sends cookies, -c keeps the ones responses set and writes them at exit",
          "[ssecat][cookies][integration]") {
  std::atomic<int> n{0};
  test_server server([&](connection& c) {
    const std::string cookie = c.req().header("Cookie").value_or("none");
    if (++n == 1) {
      c.send_head(200, {{"Content-Type", "text/event-stream"}, {"Set-Cookie", "s=2"}});
      c.send("data: " + cookie + "\n\n");
      c.close(); // ssecat reconnects
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: " + cookie + "\n\n");
    c.wait_closed_by_peer(10s);
  });
  SECTION("-b name=value") {
    ssecat_process p({"-b", "a=1; b=2", "--max-events", "1", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    CHECK(p.out == "a=1; b=2\n");
  }
  SECTION("-b FILE -c FILE") {
    const std::string file = (std::filesystem::temp_directory_path() /
                              ("ssecat-jar-" + std::to_string(::getpid()) + ".txt"))
                                 .string();
    std::ofstream(file) << "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tp\t1\n";
    ssecat_process p(
        {"--retry", "0", "-b", file, "-c", file, "--max-events", "2", server.url("/")});
    CHECK(p.wait_exit(5s) == 0);
    std::stringstream saved;
    saved << std::ifstream(file).rdbuf();
    std::remove(file.c_str());
    CHECK(p.out == "p=1\ns=2; p=1\n"); // in libcurl's order
    CHECK(saved.str().find("\tp\t1\n") != std::string::npos);
    CHECK(saved.str().find("\ts\t2\n") != std::string::npos);
  }
}

TEST_CASE("ssecat: -b and -u are not sent to another host after a redirect",
          "[ssecat][auth][cookies][integration]") {
  test_server target([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: " + c.req().header("Cookie").value_or("no cookie") + ", " +
           c.req().header("Authorization").value_or("no auth") + "\n\n");
    c.wait_closed_by_peer(10s);
  });
  const std::string elsewhere = "http://localhost:" + std::to_string(target.port()) + "/";
  test_server origin([&](connection& c) {
    c.send_head(302, {{"Location", elsewhere}, {"Content-Length", "0"}});
    c.close();
  });
  ssecat_process p({"-b", "a=1", "-u", "user:pass", "--max-events", "1", origin.url("/")});
  CHECK(p.wait_exit(5s) == 0);
  CHECK(p.out == "no cookie, no auth\n");
  REQUIRE(origin.requests().size() == 1);
  CHECK(origin.requests()[0].header("Cookie") == "a=1");
}

TEST_CASE("ssecat: multi-line data indents its later lines, so it differs from several events",
          "[ssecat][integration]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: a\ndata: b\n\n"   // one event of two lines
           "data: a\n\ndata: b\n\n" // two events of one line
           "event: t\ndata: {\ndata:  \"k\": 1\ndata: }\n\n"
           "data: x\ndata:\ndata: y\n\n"); // an empty line inside
    c.wait_closed_by_peer(10s);
  });
  ssecat_process p({"--max-events", "5", server.url("/")});
  CHECK(p.wait_exit(5s) == 0);
  CHECK(p.out == "a\n  b\n"
                 "a\nb\n"
                 "t {\n   \"k\": 1\n  }\n"
                 "x\n  \n  y\n");
}

TEST_CASE("ssecat: --help names every option", "[ssecat]") {
  ssecat_process p({"--help"});
  CHECK(p.wait_exit(5s) == 0);
  for (const char* option :
       {"--json",          "--header",        "--method",          "--data",
        "--last-event-id", "--retry",         "--no-jitter",       "--max-retries",
        "--max-events",    "--idle-timeout",  "--until ",          "--until-event",
        "--compressed",    "--http1.1",       "--http2",           "--http2-prior-knowledge",
        "--insecure",      "--cacert",        "--connect-timeout", "--verbose",
        "--quiet",         "--help",          "--version",         "--cookie",
        "--cookie-jar",    "--user",          "--oauth2-bearer",   "--digest",
        "--basic",         "--netrc-optional"}) {
    CAPTURE(option);
    CHECK(p.out.find(option) != std::string::npos);
  }
}

TEST_CASE("ssecat: the manual page documents every option of --help", "[ssecat][docs]") {
  ssecat_process p({"--help"});
  REQUIRE(p.wait_exit(5s) == 0);
  std::ifstream file(SSECAT_MANUAL_PAGE);
  REQUIRE(file);
  std::ostringstream text;
  text << file.rdbuf();
  // roff writes a hyphen as \- and a quote as \(aq; compare the text a reader sees.
  std::string page = text.str();
  for (std::size_t at = page.find("\\-"); at != std::string::npos; at = page.find("\\-", at)) {
    page.erase(at, 1);
  }
  const std::regex option_pattern(R"((^|[\s,(])(--?[a-z0-9][a-z0-9.-]*))");
  std::size_t options = 0;
  for (std::sregex_iterator it(p.out.begin(), p.out.end(), option_pattern), end; it != end; ++it) {
    const std::string option = (*it)[2];
    CAPTURE(option);
    // Each option appears as a word of its own: "--http2" inside "--http2-prior-knowledge"
    // does not count.
    const std::regex word("(^|[^a-z0-9.-])" +
                          std::regex_replace(option, std::regex(R"(\.)"), R"(\.)") +
                          "($|[^a-z0-9.-])");
    CHECK(std::regex_search(page, word));
    ++options;
  }
  CHECK(options >= 30); // the long and short names of --help
}
