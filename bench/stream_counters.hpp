// SPDX-License-Identifier: MIT
// Clients that count opens, errors and events, and note each stream's last event latency: what
// the many-stream benchmarks (scale_bench, h2_bench) watch.
#ifndef SSE_CLIENT_BENCH_STREAM_COUNTERS_HPP
#define SSE_CLIENT_BENCH_STREAM_COUNTERS_HPP

#include <sse/client.hpp>

#include "bench_server.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace sse_bench {

struct stream_counters {
  std::atomic<std::size_t> opens{0};
  std::atomic<std::size_t> errors{0};
  std::atomic<std::size_t> events{0};
  // Per stream, written on the loop thread. Atomic: the next fan-out's writes follow the main
  // thread's reads only through the server's sockets, an order sanitizers cannot see.
  std::unique_ptr<std::atomic<std::int64_t>[]> latency_ns;
};

/// A client for stream `index` whose events carry their send time (now_ns) as data.
inline std::unique_ptr<sse::client> counting_client(const sse::client_options& options,
                                                    sse::event_loop& loop, stream_counters& c,
                                                    std::size_t index) {
  auto client = std::make_unique<sse::client>(options, loop);
  client->on_open([&c](const sse::response_info&) { c.opens.fetch_add(1); });
  client->on_error([&c](const sse::error&) { c.errors.fetch_add(1); });
  client->on_message([&c, index](const sse::event& e) {
    c.latency_ns[index].store(now_ns() - std::strtoll(std::string(e.data).c_str(), nullptr, 10),
                              std::memory_order_relaxed);
    c.events.fetch_add(1, std::memory_order_release);
  });
  return client;
}

} // namespace sse_bench
#endif // SSE_CLIENT_BENCH_STREAM_COUNTERS_HPP
