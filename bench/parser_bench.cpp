// SPDX-License-Identifier: MIT
// sse::parser throughput on three typical streams, against a plain memchr('\n') scan as ceiling.
#include <sse/sse.hpp>

#include <benchmark/benchmark.h>

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

std::size_t feed_all(sse::parser& parser, const std::string& stream) {
  const std::string_view all(stream);
  for (std::size_t at = 0; at < all.size(); at += chunk_size) {
    parser.feed(all.substr(at, chunk_size));
  }
  return all.size();
}

void parse(benchmark::State& state, const std::string& (*make)()) {
  const std::string& stream = make();
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
void scan(benchmark::State& state, const std::string& (*make)()) {
  const std::string& stream = make();
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

BENCHMARK_CAPTURE(parse, tokens_1M_small_events, token_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, tokens_1M_small_events, token_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, small_2M_60B_events, small_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, small_2M_60B_events, small_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, large_2000x64KiB_events, large_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, large_2000x64KiB_events, large_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(parse, crlf_heartbeat_mix, crlf_heartbeat_stream)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scan, crlf_heartbeat_mix, crlf_heartbeat_stream)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
