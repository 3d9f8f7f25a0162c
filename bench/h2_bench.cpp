// SPDX-License-Identifier: MIT
// N streams to one https host through a local nginx: HTTP/2 (shared connections) against
// HTTP/1.1 (a connection each). Connections used, time to connect all, memory per stream, and
// the time to fan one event out to all N.
#include <sse/client.hpp>

#include "bench_server.hpp"
#include "stream_counters.hpp"
#include "support/nginx.hpp"
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
using sse_bench::wait_until;

struct mode {
  const char* name;
  const char* what;
};

// Each runs in a process of its own, so one mode's memory does not colour the next one's figures.
constexpr mode modes[] = {
    {"h2", "HTTP/2, the defaults (automatic, multiplex)"},
    {"h2-own", "HTTP/2, multiplex = false (a connection each)"},
    {"h1", "HTTP/1.1 over TLS (http_version = http1_1)"},
    {"h1-server", "the defaults against a TLS listener without HTTP/2"},
};

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU time of another (single-threaded) process, from /proc/PID/schedstat: nanoseconds, where
// /proc/PID/stat counts 10 ms ticks.
double process_cpu_seconds(pid_t pid) {
  std::ifstream schedstat("/proc/" + std::to_string(pid) + "/schedstat");
  unsigned long long on_cpu_ns = 0;
  schedstat >> on_cpu_ns;
  return static_cast<double>(on_cpu_ns) / 1e9;
}

long process_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

int run_mode(std::string_view name, std::size_t n, std::size_t batch, bool staged) {
  const mode* m = std::find_if(std::begin(modes), std::end(modes),
                               [&](const mode& x) { return name == x.name; });
  if (m == std::end(modes)) {
    std::fprintf(stderr, "h2_bench: unknown mode %.*s\n", static_cast<int>(name.size()),
                 name.data());
    return 2;
  }
  // The SSE server forks before any thread exists; nginx proxies every stream to it.
  sse_bench::idle_server_process server;
  sse_test::nginx_proxy nginx(server.port());
  sse::client_options options;
  options.url = name == "h1-server" ? nginx.https_http1_url("/idle") : nginx.https_url("/idle");
  options.tls.ca_file = nginx.ca_file();
  options.multiplex = name != "h2-own";
  if (name == "h1") {
    options.http_version = sse::http_version::http1_1;
  }

  // Load libcurl's and OpenSSL's globals with one stream on a loop of its own, gone before
  // anything is counted (so is its connection).
  {
    sse::event_loop warm_loop;
    std::atomic<bool> open{false};
    sse::client warm(options, warm_loop);
    warm.on_open([&](const sse::response_info&) { open.store(true); });
    warm.start();
    wait_until([&] { return open.load(); }, std::chrono::seconds(10));
  }

  sse::event_loop loop;
  sse_bench::stream_counters c;
  c.latency_ns = std::make_unique<std::atomic<std::int64_t>[]>(n);
  std::vector<std::unique_ptr<sse::client>> clients;
  clients.reserve(n);
  const long rss_before = sse_bench::rss_kib();
  const long nginx_rss_before = process_rss_kib(nginx.pid());
  const long accepts_before = nginx.status().accepts;
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(sse_bench::counting_client(options, loop, c, i));
  }

  const double cpu_connect0 = cpu_seconds();
  const double nginx_cpu_connect0 = process_cpu_seconds(nginx.pid());
  const auto connect_start = clock_type::now();
  // All at once, or `batch` at a time, each batch once the one before is open; `staged`: each
  // batch's first stream alone, then the rest once it is open (so they find its connection up).
  const std::size_t step = batch == 0 ? n : batch;
  bool all_open = true;
  for (std::size_t at = 0; at < n && all_open; at += step) {
    const std::size_t until = std::min(n, at + step);
    for (std::size_t i = at; i < until && all_open; ++i) {
      clients[i]->start();
      if (staged && i == at) {
        all_open = wait_until([&] { return c.opens.load() > at; }, std::chrono::seconds(120));
      }
    }
    all_open =
        all_open && wait_until([&] { return c.opens.load() >= until; }, std::chrono::seconds(120));
  }
  const double connect_s = std::chrono::duration<double>(clock_type::now() - connect_start).count();
  const double connect_cpu = cpu_seconds() - cpu_connect0;
  const double nginx_connect_cpu = process_cpu_seconds(nginx.pid()) - nginx_cpu_connect0;
  const sse_test::nginx_status after = nginx.status();
  const long rss_open = sse_bench::rss_kib();
  const long nginx_rss_open = process_rss_kib(nginx.pid());

  std::printf("%s: %s\n", m->name, m->what);
  std::printf("  connect: %zu of %zu open in %.3f s, %zu errors; client CPU %.0f ms, nginx CPU "
              "%.0f ms\n",
              c.opens.load(), n, connect_s, c.errors.load(), connect_cpu * 1e3,
              nginx_connect_cpu * 1e3);
  // Less the status request's own connection.
  std::printf("  connections: nginx accepted %ld for %zu streams (%ld open), %.1f streams per "
              "connection\n",
              after.accepts - accepts_before - 1, n, after.active - 1,
              static_cast<double>(n) / static_cast<double>(std::max(1L, after.active - 1)));
  std::printf("  memory: client RSS +%ld KiB = %.1f KiB per stream; nginx RSS +%ld KiB = %.1f KiB "
              "per stream\n",
              rss_open - rss_before,
              static_cast<double>(rss_open - rss_before) / static_cast<double>(n),
              nginx_rss_open - nginx_rss_before,
              static_cast<double>(nginx_rss_open - nginx_rss_before) / static_cast<double>(n));

  // Fan-out: the server stamps one event and writes it to every upstream connection; nginx
  // forwards it; the time is from that stamp to each stream's listener.
  std::vector<double> last_ms;
  std::vector<double> p50_ms;
  double client_cpu_ms = 0;
  double nginx_cpu_ms = 0;
  const int rounds = 5;
  for (int round = 0; round < rounds && all_open; ++round) {
    const std::size_t expected = c.events.load() + n;
    const double cpu0 = cpu_seconds();
    const double nginx_cpu0 = process_cpu_seconds(nginx.pid());
    server.fan_out();
    if (!wait_until([&] { return c.events.load(std::memory_order_acquire) >= expected; },
                    std::chrono::seconds(60))) {
      std::printf("  fan-out %d: NOT all delivered in 60 s\n", round + 1);
      break;
    }
    client_cpu_ms += (cpu_seconds() - cpu0) * 1e3;
    nginx_cpu_ms += (process_cpu_seconds(nginx.pid()) - nginx_cpu0) * 1e3;
    std::vector<std::int64_t> latencies(n);
    for (std::size_t i = 0; i < n; ++i) {
      latencies[i] = c.latency_ns[i].load(std::memory_order_relaxed);
    }
    std::sort(latencies.begin(), latencies.end());
    p50_ms.push_back(static_cast<double>(latencies[latencies.size() / 2]) / 1e6);
    last_ms.push_back(static_cast<double>(latencies.back()) / 1e6);
    // Let the sockets go quiet between rounds.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!last_ms.empty()) {
    const std::size_t k = last_ms.size();
    std::sort(last_ms.begin(), last_ms.end());
    std::sort(p50_ms.begin(), p50_ms.end());
    std::printf("  fan-out of one event to %zu streams: %.2f ms to the last listener, p50 %.2f ms "
                "(medians of %zu); per round client CPU %.1f ms, nginx CPU %.1f ms\n",
                n, last_ms[k / 2], p50_ms[k / 2], k, client_cpu_ms / static_cast<double>(k),
                nginx_cpu_ms / static_cast<double>(k));
  }
  const auto close_start = clock_type::now();
  clients.clear();
  std::printf("  teardown of %zu clients: %.1f ms\n", n,
              std::chrono::duration<double, std::milli>(clock_type::now() - close_start).count());
  return all_open ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t n = 100;
  std::string only;
  std::size_t batch = 0; // 0: start all at once
  bool staged = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--mode" && i + 1 < argc) {
      only = argv[++i];
    } else if ((arg == "--batch" || arg == "--staged") && i + 1 < argc) {
      batch = std::strtoul(argv[++i], nullptr, 10);
      staged = arg == "--staged";
    } else if (!arg.empty() && arg.front() != '-') {
      n = std::strtoul(argv[i], nullptr, 10);
    } else {
      std::fprintf(
          stderr, "usage: h2_bench [N] [--batch B | --staged B] [--mode h2|h2-own|h1|h1-server]\n");
      return 2;
    }
  }
  const std::uint64_t fd_limit = sse_bench::raise_fd_limit();
  if (fd_limit < 3 * n + 100) {
    std::fprintf(stderr, "h2_bench: open-file limit %llu is too low for %zu streams\n",
                 static_cast<unsigned long long>(fd_limit), n);
    return 1;
  }
  if (!only.empty()) {
    try {
      return run_mode(only, n, batch, staged);
    } catch (const std::exception& e) {
      std::printf("%s: could not run: %s\n", only.c_str(), e.what());
      return 1;
    }
  }
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  std::printf(
      "h2_bench: %zu streams (started %s) on one event_loop thread to one https host, a "
      "local nginx proxying to a loopback SSE server; libcurl %s, nghttp2 %s\n",
      n,
      batch == 0
          ? "all at once"
          : ((staged ? "in staged batches of " : "in batches of ") + std::to_string(batch)).c_str(),
      curl->version, curl->nghttp2_version ? curl->nghttp2_version : "none");
  int failures = 0;
  for (const mode& m : modes) {
    std::fflush(stdout);
    const std::string count = std::to_string(n);
    const std::string batch_arg = std::to_string(batch);
    std::string args[] = {"/proc/self/exe", count,    staged ? "--staged" : "--batch",
                          batch_arg,        "--mode", m.name};
    char* child_argv[std::size(args) + 1] = {};
    for (std::size_t i = 0; i < std::size(args); ++i) {
      child_argv[i] = args[i].data();
    }
    pid_t pid = -1;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, child_argv, environ) != 0) {
      std::fprintf(stderr, "h2_bench: cannot run mode %s\n", m.name);
      return 1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    failures += (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
  }
  // Figures only: a slow run is a figure, not a failure; a mode that could not run is reported.
  if (failures != 0) {
    std::printf("h2_bench: %d mode(s) did not complete\n", failures);
  }
  return 0;
}
