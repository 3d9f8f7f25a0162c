// SPDX-License-Identifier: MIT
// sse::parser throughput on four typical streams, against a plain memchr('\n') scan as ceiling.
// Each runs twice: over the whole stream (tens of MB, so read from memory) and over a 256 KiB
// window of it fed again and again (in cache, as a network client's bytes are: libcurl hands over
// each chunk just after recv() wrote it into the receive buffer).
#include <sse/sse.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace {
// Every allocation of the program; the benchmarks report the ones made while parsing.
std::atomic<std::size_t> allocations{0};
} // namespace

// GCC 12 inlines these replacements into their callers and then takes free() of a pointer from
// operator new for a mismatch; here the pair is malloc/free on purpose.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
// The nothrow forms too, or a sanitizer's own would pair with the free() below.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

// What libcurl hands its write callback at most.
constexpr std::size_t chunk_size = 16 * 1024;

// 1,000,000 small events as LLM token streams send them.
const std::string& token_stream() {
  static const std::string stream = [] {
    static const char* const tokens[] = {
        "Hello",        ",",   " world", " the",         " quick", "\\n",
        " caf\xC3\xA9", " 42", "!",      " \xE2\x9C\x93"};
    std::string s;
    s.reserve(64 * 1000000);
    for (int i = 0; i < 1000000; ++i) {
      s += "event: delta\nid: ";
      s += std::to_string(i);
      s += "\ndata: {\"tok\":\"";
      s += tokens[i % 10];
      s += "\"}\n\n";
    }
    return s;
  }();
  return stream;
}

// 2,000,000 events of 60 bytes (an id and a JSON token), as e2e_bench's small corpus.
const std::string& small_stream() {
  static const std::string stream = [] {
    std::string s;
    s.reserve(60 * 2000000);
    for (int i = 0; i < 2000000; ++i) {
      std::string ev = "id: " + std::to_string(i) + "\ndata: {\"tok\":\"";
      ev.append(60 - ev.size() - 4, 'x');
      ev += "\"}\n\n";
      s += ev;
    }
    return s;
  }();
  return stream;
}

// 2,000 events of 64 KiB each, sent as 1 KiB data lines.
const std::string& large_stream() {
  static const std::string stream = [] {
    std::string line = "data: ";
    for (int i = 0; line.size() < 1023; ++i) {
      line += static_cast<char>('a' + i % 26);
    }
    line += '\n';
    std::string s;
    s.reserve(2000 * 65 * 1024);
    for (int e = 0; e < 2000; ++e) {
      s += "id: " + std::to_string(e) + "\n";
      for (int l = 0; l < 64; ++l) {
        s += line;
      }
      s += '\n';
    }
    return s;
  }();
  return stream;
}

// CRLF line ends, with a heartbeat comment between events: 200,000 events.
const std::string& crlf_heartbeat_stream() {
  static const std::string stream = [] {
    const std::string payload(180, 'p');
    std::string s;
    for (int i = 0; i < 200000; ++i) {
      s += ":heartbeat\r\n\r\n";
      s += "event: update\r\nid: " + std::to_string(i) + "\r\ndata: {\"seq\":" + std::to_string(i) +
           ",\"body\":\"" + payload + "\"}\r\n\r\n";
    }
    return s;
  }();
  return stream;
}

// The bytes a run feeds: the whole stream, or its first events up to 256 KiB (the client's
// receive buffer), cut after a blank line so that feeding it again starts a fresh event.
std::string_view input(const std::string& stream, bool in_cache) {
  constexpr std::size_t window = 256 * 1024;
  if (!in_cache || stream.size() <= window) {
    return stream;
  }
  std::size_t end = stream.rfind("\n\n", window - 2);
  if (end == std::string::npos) {
    end = stream.rfind("\n\r\n", window - 3) + 1; // CRLF line ends
  }
  return std::string_view(stream).substr(0, end + 2);
}

std::size_t feed_all(sse::parser& parser, std::string_view all) {
  for (std::size_t at = 0; at < all.size(); at += chunk_size) {
    parser.feed(all.substr(at, chunk_size));
  }
  return all.size();
}

void parse(benchmark::State& state, const std::string& (*make)(), bool in_cache) {
  const std::string_view stream = input(make(), in_cache);
  sse::parser parser;
  std::size_t events = 0;
  std::size_t checksum = 0;
  parser.on_event([&](const sse::event& e) {
    ++events;
    checksum += e.data.size();
  });
  feed_all(parser, stream); // warm: buffers reach their steady-state capacity
  events = 0;
  const std::size_t allocations_before = allocations.load();
  for (auto _ : state) {
    feed_all(parser, stream);
    benchmark::DoNotOptimize(checksum);
  }
  const std::size_t allocated = allocations.load() - allocations_before;
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["allocs/event"] =
      events == 0 ? 0.0 : static_cast<double>(allocated) / static_cast<double>(events);
}

// The ceiling: find every LF with memchr, touching the same bytes in the same chunks.
void scan(benchmark::State& state, const std::string& (*make)(), bool in_cache) {
  const std::string_view stream = input(make(), in_cache);
  for (auto _ : state) {
    std::size_t lines = 0;
    for (std::size_t at = 0; at < stream.size(); at += chunk_size) {
      const char* p = stream.data() + at;
      const char* end = p + std::min(chunk_size, stream.size() - at);
      while (const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        ++lines;
        p = static_cast<const char*>(hit) + 1;
      }
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}

} // namespace

// from_memory: the whole stream; in_cache: its first 256 KiB, again and again.
BENCHMARK_CAPTURE(parse, tokens_1M_small_events_from_memory, token_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, tokens_1M_small_events_from_memory, token_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, tokens_1M_small_events_in_cache, token_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(scan, tokens_1M_small_events_in_cache, token_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(parse, small_2M_60B_events_from_memory, small_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, small_2M_60B_events_from_memory, small_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, small_2M_60B_events_in_cache, small_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(scan, small_2M_60B_events_in_cache, small_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(parse, large_2000x64KiB_events_from_memory, large_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, large_2000x64KiB_events_from_memory, large_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, large_2000x64KiB_events_in_cache, large_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(scan, large_2000x64KiB_events_in_cache, large_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(parse, crlf_heartbeat_mix_from_memory, crlf_heartbeat_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, crlf_heartbeat_mix_from_memory, crlf_heartbeat_stream, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, crlf_heartbeat_mix_in_cache, crlf_heartbeat_stream, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(scan, crlf_heartbeat_mix_in_cache, crlf_heartbeat_stream, true)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
