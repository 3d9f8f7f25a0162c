// SPDX-License-Identifier: MIT
// Soak: N clients for S seconds against a flaky local server that drops connections at random
// points. Prints events, reconnects, RSS and open descriptors over time; exits 1 if any client
// saw a gap or a duplicate, or if memory or descriptors kept growing.
// Usage: soak [--clients N] [--seconds S]
#include <sse/sse.hpp>

#include "support/test_server.hpp"
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return -1;
}

long open_fds() {
  long n = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) {
      ++n;
    }
    closedir(dir);
  }
  return n;
}

} // namespace

int main(int argc, char** argv) {
  int clients = 50;
  int seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--clients") {
      clients = std::atoi(argv[i + 1]);
    } else if (arg == "--seconds") {
      seconds = std::atoi(argv[i + 1]);
    }
  }

  // The server runs in a child process, so the RSS and descriptors measured are the client's.
  int port_pipe[2];
  if (pipe(port_pipe) != 0) {
    return 2;
  }
  const pid_t server_pid = fork();
  if (server_pid == 0) {
    // Each connection resumes after Last-Event-ID, sends 1 to 400 events, then drops: half by
    // RST, half by FIN, often in the middle of an event.
    std::mutex random_mutex;
    std::mt19937 random(1);
    sse_test::test_server server([&](sse_test::connection& c) {
      const auto last = c.req().header("Last-Event-ID");
      const long first = last ? std::stol(*last) + 1 : 0;
      int count = 0;
      bool abort = false;
      {
        std::lock_guard<std::mutex> lock(random_mutex);
        count = std::uniform_int_distribution<int>(1, 400)(random);
        abort = (random() & 1) != 0;
      }
      std::string body;
      for (long id = first; id < first + count; ++id) {
        body += "id: " + std::to_string(id) + "\ndata: " + std::to_string(id) + "\n\n";
      }
      body += "id: " + std::to_string(first + count) + "\ndata: cut";
      c.send_head(200, {{"Content-Type", "text/event-stream"}});
      c.send(body);
      if (abort) {
        c.abort();
      } else {
        c.close();
      }
    });
    const std::uint16_t port = server.port();
    (void)!write(port_pipe[1], &port, sizeof port);
    pause(); // until the parent kills it
    return 0;
  }
  std::uint16_t port = 0;
  if (read(port_pipe[0], &port, sizeof port) != static_cast<ssize_t>(sizeof port)) {
    return 2;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/soak";

  sse::event_loop loop;
  std::atomic<long> events{0};
  std::atomic<long> violations{0};
  std::vector<long> next(static_cast<std::size_t>(clients), 0);
  std::vector<std::unique_ptr<sse::client>> streams;
  for (int i = 0; i < clients; ++i) {
    sse::client_options options;
    options.url = url;
    options.reconnect.initial_delay = std::chrono::milliseconds(1);
    options.reconnect.max_delay = std::chrono::milliseconds(20);
    auto client = std::make_unique<sse::client>(options, loop);
    long* expected = &next[static_cast<std::size_t>(i)]; // touched on the loop thread only
    client->on_message([&, expected](const sse::event& e) {
      if (std::stol(e.data) != (*expected)++) {
        ++violations;
      }
      ++events;
    });
    client->start();
    streams.push_back(std::move(client));
  }

  const auto attempts = [&] {
    std::uint64_t n = 0;
    for (const auto& stream : streams) {
      n += stream->stats().attempts;
    }
    return n;
  };
  const auto start = std::chrono::steady_clock::now();
  std::printf("soak: %d clients, %d s, flaky server on %s\n", clients, seconds, url.c_str());
  std::printf("%8s %12s %12s %10s %6s\n", "time s", "events", "attempts", "RSS KiB", "fds");
  long rss_first = 0;
  long fds_first = 0;
  long rss_last = 0;
  long fds_last = 0;
  const int step = seconds >= 20 ? 5 : 1;
  for (int t = step; t <= seconds; t += step) {
    std::this_thread::sleep_until(start + std::chrono::seconds(t));
    rss_last = rss_kib();
    fds_last = open_fds();
    if (t == step) {
      rss_first = rss_last;
      fds_first = fds_last;
    }
    std::printf("%8d %12ld %12llu %10ld %6ld\n", t, events.load(),
                static_cast<unsigned long long>(attempts()), rss_last, fds_last);
    std::fflush(stdout);
  }
  const auto total_attempts = attempts();
  streams.clear();
  kill(server_pid, SIGTERM);
  waitpid(server_pid, nullptr, 0);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "soak: %ld events (%.0f/s), %llu connection attempts, RSS %+ld KiB and fds %+ld since the "
      "first sample, %ld gaps or duplicates\n",
      events.load(), static_cast<double>(events.load()) / elapsed,
      static_cast<unsigned long long>(total_attempts), rss_last - rss_first, fds_last - fds_first,
      violations.load());
  const bool flat = rss_last - rss_first < 16 * 1024 && fds_last - fds_first <= clients;
  return violations.load() == 0 && flat ? 0 : 1;
}
