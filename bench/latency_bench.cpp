// SPDX-License-Identifier: MIT
// Delivery latency of small timed events: sse::client against a raw libcurl easy reader.
#include <sse/client.hpp>

#include "bench_server.hpp"
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int event_count = 500;
constexpr auto event_interval = std::chrono::milliseconds(10);

// Each connection gets its own schedule: event i leaves at start + i * 10 ms, stamped with its
// send time just before the write.
void send_timed_events(int fd) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < event_count; ++i) {
    std::this_thread::sleep_until(start + i * event_interval);
    const std::string event = "data: " + std::to_string(sse_bench::now_ns()) + "\n\n";
    if (!sse_bench::write_all(fd, event)) {
      return;
    }
  }
}

std::int64_t stamp_of(std::string_view data) {
  return std::strtoll(std::string(data).c_str(), nullptr, 10);
}

struct summary {
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  std::size_t count = 0;
};

summary summarize(std::vector<std::int64_t> ns) {
  summary s;
  s.count = ns.size();
  if (ns.empty()) {
    return s;
  }
  std::sort(ns.begin(), ns.end());
  const auto at = [&ns](double q) {
    const auto index = static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1) + 0.5);
    return static_cast<double>(ns[index]) / 1e3;
  };
  s.p50_us = at(0.50);
  s.p99_us = at(0.99);
  s.max_us = static_cast<double>(ns.back()) / 1e3;
  return s;
}

// sse::client on its own background loop; the listener notes receive minus send time.
std::vector<std::int64_t> run_client(const std::string& url) {
  std::vector<std::int64_t> latencies;
  latencies.reserve(event_count);
  sse::event_loop loop;
  sse::client_options options;
  options.url = url;
  options.reconnect_on_end = false;
  sse::client client(options, loop);
  client.on_message([&](const sse::event& e) {
    latencies.push_back(sse_bench::now_ns() - stamp_of(e.data));
    if (latencies.size() == static_cast<std::size_t>(event_count)) {
      client.close();
    }
  });
  client.start();
  client.wait_for(std::chrono::seconds(30));
  return latencies;
}

// The baseline: libcurl easy with a write callback that splits events at blank lines.
struct raw_reader {
  std::string pending;
  std::vector<std::int64_t> latencies;

  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self) {
    auto* r = static_cast<raw_reader*>(self);
    const auto now = sse_bench::now_ns();
    r->pending.append(data, size * count);
    std::size_t end = 0;
    while ((end = r->pending.find("\n\n")) != std::string::npos) {
      const std::string_view event(r->pending.data(), end);
      if (event.rfind("data: ", 0) == 0) {
        r->latencies.push_back(now - stamp_of(event.substr(6)));
      }
      r->pending.erase(0, end + 2);
    }
    return size * count;
  }
};

std::vector<std::int64_t> run_raw(const std::string& url) {
  raw_reader reader;
  reader.latencies.reserve(event_count);
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &raw_reader::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reader);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  return reader.latencies;
}

void print(const char* name, const summary& s) {
  std::printf("  %-26s p50 %8.1f us   p99 %8.1f us   max %8.1f us   (%zu events)\n", name, s.p50_us,
              s.p99_us, s.max_us, s.count);
}

} // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<double> ours_p50;
  std::vector<double> ours_p99;
  std::vector<double> ours_max;
  std::vector<double> raw_p50;
  std::vector<double> raw_p99;
  std::vector<double> raw_max;
  for (int r = 0; r < reps; ++r) {
    sse_bench::stream_server server(&send_timed_events);
    // Both readers at once, each on its own connection, so they see the same machine load.
    std::vector<std::int64_t> raw;
    std::thread raw_thread([&] { raw = run_raw(server.url()); });
    const summary ours = summarize(run_client(server.url()));
    raw_thread.join();
    const summary base = summarize(raw);
    std::printf("rep %d (%d events, one per %lld ms):\n", r + 1, event_count,
                static_cast<long long>(event_interval.count()));
    print("sse::client", ours);
    print("raw libcurl easy reader", base);
    ours_p50.push_back(ours.p50_us);
    ours_p99.push_back(ours.p99_us);
    ours_max.push_back(ours.max_us);
    raw_p50.push_back(base.p50_us);
    raw_p99.push_back(base.p99_us);
    raw_max.push_back(base.max_us);
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("latency (receive - send), median over %d runs:\n", reps);
  std::printf("  sse::client             : p50 %.1f us, p99 %.1f us, max %.1f us\n",
              median(ours_p50), median(ours_p99), median(ours_max));
  std::printf("  raw libcurl easy reader : p50 %.1f us, p99 %.1f us, max %.1f us\n",
              median(raw_p50), median(raw_p99), median(raw_max));
  std::printf("  p99 difference          : %.1f us (target: within 1000 us)\n",
              median(ours_p99) - median(raw_p99));
  curl_global_cleanup();
  return 0;
}
