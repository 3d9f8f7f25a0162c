// SPDX-License-Identifier: MIT
// Which attempts may start now to share an HTTP/2 connection to one host, and which wait for
// the next wave. Not thread-safe: only the loop's thread touches it.
#ifndef SSE_CLIENT_DETAIL_SHARE_WAVES_HPP
#define SSE_CLIENT_DETAIL_SHARE_WAVES_HPP

#include <sse/version.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

/// Streams that wait to share an HTTP/2 connection to one host (CURLOPT_PIPEWAIT) start in
/// waves of at most `wave_size`: a leader alone, which opens a connection, then the rest once
/// its response is there, which find that connection up and join it. (libcurl 7.88 makes an
/// attempt wait only for a host's first connection; one started while the others are full
/// opens a connection of its own.)
class share_waves {
public:
  /// libcurl's limit of streams on one connection.
  static constexpr std::size_t wave_size = 100;

  /// For an attempt that waits to share a connection to `host`: a wave number when it leads a
  /// wave (pass it to `release` when its response comes), 0 when it joins the wave being
  /// started, empty when it must wait in `queue`.
  std::optional<std::uint64_t> acquire(const std::string& host) {
    gate& g = gates_[host];
    if (g.filling) {
      if (g.joined + 1 == wave_size) {
        return std::nullopt;
      }
      ++g.joined;
      return 0;
    }
    if (g.waiting) {
      return std::nullopt;
    }
    g.waiting = true;
    return ++g.wave;
  }

  /// Runs `start` in a later wave of `host`; it calls `acquire` again to take its place, unless
  /// its stream has ended meanwhile.
  void queue(const std::string& host, std::function<void()> start) {
    gates_[host].queued.push_back(std::move(start));
  }

  /// The leader of `wave` has its response, failed or was stopped. True when the caller must
  /// call `start_wave(host)` from a task of its own: this runs inside libcurl's callbacks,
  /// where no transfer may be added.
  bool release(const std::string& host, std::uint64_t wave) {
    const auto found = gates_.find(host);
    if (found == gates_.end() || !found->second.waiting || found->second.wave != wave) {
      return false;
    }
    gate& g = found->second;
    g.waiting = false;
    if (g.starting) {
      return false; // start_wave is on it
    }
    if (g.queued.empty()) {
      gates_.erase(found);
      return false;
    }
    return true;
  }

  /// Starts the rest of a wave of `host` in this one call, so that they find its leader's
  /// connection up and join it; then the next leader, which opens the next connection.
  void start_wave(const std::string& host) {
    const auto found = gates_.find(host);
    if (found == gates_.end() || found->second.waiting) {
      return;
    }
    // A start adds a handle and calls acquire or release for this host only, which neither
    // insert nor erase while `starting`: the reference stays valid.
    gate& g = found->second;
    g.starting = true;
    g.filling = true;
    g.joined = 0;
    const auto start_next = [&g] {
      auto start = std::move(g.queued.front());
      g.queued.pop_front();
      start();
    };
    while (g.joined + 1 < wave_size && !g.queued.empty()) {
      start_next(); // joins the wave, unless its stream has ended
    }
    g.filling = false;
    while (!g.waiting && !g.queued.empty()) {
      start_next(); // leads the next wave, unless its stream has ended
    }
    g.starting = false;
    if (!g.waiting && g.queued.empty()) {
      gates_.erase(found);
    }
  }

private:
  struct gate {
    std::uint64_t wave = 0; // the newest wave
    bool waiting = false;   // its leader waits for its response
    bool filling = false;   // start_wave is starting the rest of a wave
    bool starting = false;  // start_wave is running
    std::size_t joined = 0; // attempts that joined the wave being started
    std::deque<std::function<void()>> queued;
  };
  std::unordered_map<std::string, gate> gates_; // by scheme://host:port
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_SHARE_WAVES_HPP
