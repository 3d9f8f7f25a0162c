// SPDX-License-Identifier: MIT
// N idle streams on one event_loop thread: memory per stream, idle CPU, fan-out time.
#include <sse/client.hpp>

#include "bench_server.hpp"
#include "stream_counters.hpp"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using sse_bench::wait_until;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Voluntary context switches of every thread of the process: each is one wakeup of a sleeper.
long voluntary_switches() {
  long total = 0;
  const std::filesystem::path tasks("/proc/self/task");
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
        total += std::stol(line.substr(24));
      }
    }
  }
  return total;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000;
  std::size_t batch = 0; // 0: start all at once
  int idle_seconds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--batch" && i + 1 < argc) {
      batch = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--idle" && i + 1 < argc) {
      idle_seconds = std::atoi(argv[++i]);
    } else if (!arg.empty() && arg.front() != '-') {
      n = std::strtoul(argv[i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: scale_bench [N] [--batch B] [--idle SECONDS]\n");
      return 2;
    }
  }
  const std::uint64_t fd_limit = sse_bench::raise_fd_limit();
  if (fd_limit < n + 100) {
    std::fprintf(stderr, "scale_bench: open-file limit %llu is too low for %zu streams\n",
                 static_cast<unsigned long long>(fd_limit), n);
    return 1;
  }
  // Fork the server before any thread exists.
  sse_bench::idle_server_process server;

  sse::event_loop loop; // one background thread drives every stream
  sse_bench::stream_counters c;
  c.latency_ns = std::make_unique<std::atomic<std::int64_t>[]>(n);
  std::vector<std::unique_ptr<sse::client>> clients;
  clients.reserve(n);
  // Settle the allocator and libcurl's globals with one client made and dropped first.
  {
    sse::client_options options;
    options.url = server.url();
    sse::client warm(options, loop);
  }
  const long rss_before = sse_bench::rss_kib();

  sse::client_options options;
  options.url = server.url();
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(sse_bench::counting_client(options, loop, c, i));
  }

  const auto connect_start = clock_type::now();
  const std::size_t step = batch == 0 ? n : batch;
  bool all_open = true;
  for (std::size_t at = 0; at < n && all_open; at += step) {
    const std::size_t until = std::min(n, at + step);
    for (std::size_t i = at; i < until; ++i) {
      clients[i]->start();
    }
    all_open = wait_until([&] { return c.opens.load() >= until; }, std::chrono::seconds(120));
  }
  const double connect_s = std::chrono::duration<double>(clock_type::now() - connect_start).count();
  const long rss_open = sse_bench::rss_kib();
  std::printf("streams: %zu on one event_loop thread (start batch: %s), fd limit %llu\n", n,
              batch == 0 ? "all at once" : std::to_string(batch).c_str(),
              static_cast<unsigned long long>(fd_limit));
  std::printf("  connect: %zu of %zu open in %.2f s, %zu errors (reconnects), server holds %llu\n",
              c.opens.load(), n, connect_s, c.errors.load(),
              static_cast<unsigned long long>(server.held()));
  std::printf("  memory: RSS +%ld KiB for %zu streams = %.1f KiB per stream\n",
              rss_open - rss_before, n,
              static_cast<double>(rss_open - rss_before) / static_cast<double>(n));

  // Idle: nothing arrives (the idle timeout is 5 minutes); the loop should sleep.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double cpu_before = cpu_seconds();
  const long switches_before = voluntary_switches();
  const auto idle_start = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  const double idle_wall = std::chrono::duration<double>(clock_type::now() - idle_start).count();
  const double idle_cpu = cpu_seconds() - cpu_before;
  const long wakeups = voluntary_switches() - switches_before - 1; // minus our own sleep
  std::printf("  idle CPU over %.1f s: %.1f ms = %.2f%% of one core, %.1f loop wakeups/s\n",
              idle_wall, idle_cpu * 1e3, 100.0 * idle_cpu / idle_wall,
              static_cast<double>(wakeups) / idle_wall);

  // Fan-out: the server stamps one event and writes it to every connection; the time is from
  // that stamp to the last listener call.
  std::vector<double> last_ms;
  for (int round = 0; round < 3 && all_open; ++round) {
    const std::size_t expected = c.events.load() + n;
    const double cpu0 = cpu_seconds();
    const auto [sent, write_ns] = server.fan_out();
    const bool all =
        wait_until([&] { return c.events.load(std::memory_order_acquire) >= expected; },
                   std::chrono::seconds(60));
    const double cpu_ms = (cpu_seconds() - cpu0) * 1e3;
    std::vector<std::int64_t> latencies(n);
    for (std::size_t i = 0; i < n; ++i) {
      latencies[i] = c.latency_ns[i].load(std::memory_order_relaxed);
    }
    std::sort(latencies.begin(), latencies.end());
    const double p50 = static_cast<double>(latencies[latencies.size() / 2]) / 1e6;
    const double last = static_cast<double>(latencies.back()) / 1e6;
    last_ms.push_back(last);
    std::printf(
        "  fan-out %d: server wrote to %llu in %.2f ms, %s; stamp to listener: p50 %.2f ms, "
        "last %.2f ms, client CPU %.1f ms\n",
        round + 1, static_cast<unsigned long long>(sent), static_cast<double>(write_ns) / 1e6,
        all ? "all delivered" : "NOT all delivered in 60 s", p50, last, cpu_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!last_ms.empty()) {
    std::sort(last_ms.begin(), last_ms.end());
    std::printf("  fan-out to %zu streams: %.2f ms to the last listener (median of %zu)\n", n,
                last_ms[last_ms.size() / 2], last_ms.size());
  }

  // Trickle: one event to one stream every 10 ms (100 events/s spread over the streams): what
  // a single readable socket costs the loop when N are open.
  if (all_open) {
    const int trickle_events = 200;
    std::vector<std::int64_t> trickle_ns;
    trickle_ns.reserve(trickle_events);
    const double cpu0 = cpu_seconds();
    const auto trickle_start = clock_type::now();
    for (int k = 0; k < trickle_events; ++k) {
      std::this_thread::sleep_until(trickle_start + k * std::chrono::milliseconds(10));
      const std::size_t expected = c.events.load() + 1;
      const auto sent_at = sse_bench::now_ns();
      if (!server.send_one()) {
        continue;
      }
      if (!wait_until([&] { return c.events.load(std::memory_order_acquire) >= expected; },
                      std::chrono::seconds(10))) {
        break;
      }
      trickle_ns.push_back(sse_bench::now_ns() - sent_at);
    }
    const double wall = std::chrono::duration<double>(clock_type::now() - trickle_start).count();
    const double cpu = cpu_seconds() - cpu0;
    std::sort(trickle_ns.begin(), trickle_ns.end());
    if (!trickle_ns.empty()) {
      std::printf("  trickle (1 event to 1 of %zu streams every 10 ms, %zu events): loop CPU "
                  "%.2f ms per event = %.1f%% of one core; latency p50 %.2f ms, max %.2f ms\n",
                  n, trickle_ns.size(), cpu * 1e3 / static_cast<double>(trickle_ns.size()),
                  100.0 * cpu / wall, static_cast<double>(trickle_ns[trickle_ns.size() / 2]) / 1e6,
                  static_cast<double>(trickle_ns.back()) / 1e6);
    }
  }

  const auto close_start = clock_type::now();
  clients.clear();
  std::printf("  teardown of %zu clients: %.2f s\n", n,
              std::chrono::duration<double>(clock_type::now() - close_start).count());
  return 0;
}
