// SPDX-License-Identifier: MIT
// A server that writes a long stream as fast as the client takes it, for backpressure tests.
#ifndef SSE_CLIENT_TESTS_SUPPORT_FAST_SERVER_HPP
#define SSE_CLIENT_TESTS_SUPPORT_FAST_SERVER_HPP

#include "support/client_support.hpp"
#include "support/test_server.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sse_test {

/// Writes `event_count` events (`id: N`, `data:` of `payload_size` bytes) in writes of
/// `events_per_write`, counting the bytes each write handed to the kernel, then ends the body.
class fast_server {
public:
  static constexpr std::size_t payload_size = 1024;
  static constexpr std::size_t event_count = 32 * 1024; // 32 MiB: far more than socket buffers
  static constexpr std::size_t events_per_write = 16;

  fast_server()
      : server_([this](connection& c) {
          if (!c.send_head(200, stream_headers)) {
            return;
          }
          const std::string payload(payload_size, 'x');
          std::string batch;
          for (std::size_t i = 0; i < event_count; i += events_per_write) {
            batch.clear();
            for (std::size_t j = i; j < i + events_per_write; ++j) {
              batch += "id: " + std::to_string(j) + "\ndata: " + payload + "\n\n";
            }
            if (!c.send(batch)) {
              return;
            }
            written_.fetch_add(batch.size());
          }
          c.close();
        }) {}

  std::string url() const { return server_.url("/fast"); }
  /// Bytes the kernel has taken so far.
  std::uint64_t written() const { return written_.load(); }

  /// The bytes of event `id` as this server writes it.
  static std::uint64_t wire_size(std::size_t id) {
    return 4 + std::to_string(id).size() + 1 + 6 + payload_size + 2;
  }

private:
  std::atomic<std::uint64_t> written_{0};
  test_server server_;
};

} // namespace sse_test

#endif // SSE_CLIENT_TESTS_SUPPORT_FAST_SERVER_HPP
