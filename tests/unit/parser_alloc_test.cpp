// SPDX-License-Identifier: MIT
// sse::parser allocates nothing per event once warm (global operator new is counted here).
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

namespace {
// Counts every allocation in this executable; only the difference around a measured block
// matters, so Catch2's own allocations do not disturb the figures.
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

std::string stream_of(int first, int count) {
  std::string stream;
  for (int i = first; i < first + count; ++i) {
    // Every kind of line, IDs of growing length, data long enough to leave SSO behind, a
    // multi-byte character and an invalid byte cut by chunk boundaries below.
    stream += ": heartbeat\r\nevent: delta\r\nid: " + std::to_string(i) +
              "\r\nretry: 1500\r\nx-unknown: 1\r\ndata: {\"tok\":\"h\xC3\xA9llo " +
              std::string(64, 'w') + "\xFF\"}\r\ndata: second line\r\n\r\n";
  }
  return stream;
}

std::size_t allocations_while_feeding(sse::parser& parser, const std::string& stream,
                                      std::size_t chunk) {
  const std::size_t before = allocations.load();
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    parser.feed(std::string_view(stream).substr(at, chunk));
  }
  return allocations.load() - before;
}

} // namespace

TEST_CASE("parser: a warm parser allocates nothing per event", "[parser][alloc]") {
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    INFO("chunk size " << chunk);
    sse::parser parser;
    std::size_t events = 0;
    std::size_t bytes = 0;
    std::size_t comments = 0;
    std::size_t retries = 0;
    std::size_t unknown = 0;
    parser.on_event([&](const sse::event& e) {
      ++events;
      bytes += e.data.size() + e.type.size() + e.id.size();
    });
    parser.on_comment([&](std::string_view) { ++comments; });
    parser.on_retry([&](std::chrono::milliseconds) { ++retries; });
    parser.on_unknown_field([&](std::string_view, std::string_view) { ++unknown; });

    // Warm up with IDs as long as the measured ones, so no buffer has to grow later.
    const std::string warm = stream_of(100000, 50);
    const std::string measured = stream_of(100000, 2000);
    allocations_while_feeding(parser, warm, chunk);
    const std::size_t count = allocations_while_feeding(parser, measured, chunk);
    CHECK(events == 2050);
    CHECK(comments == 2050);
    CHECK(retries == 2050);
    CHECK(unknown == 2050);
    CHECK(bytes > 0);
    CHECK(count == 0);
  }
}

TEST_CASE("parser: a buffer that held an event over the retained capacity is let go",
          "[parser][alloc]") {
  // Each data buffer is reused while its capacity stays within the bound, and released once
  // an event grew it past. Then the next large event has to allocate again.
  const auto event_of = [](std::size_t size) { return "data: " + std::string(size, 'd') + "\n\n"; };
  const std::size_t bound = sse::detail::retained_data_capacity;
  const std::string small = event_of(10) + event_of(10);
  for (const std::size_t large : {bound / 3, bound / 2, bound + 1, 3 * bound}) {
    for (const std::size_t chunk : {std::size_t{16384}, 3 * bound}) {
      CAPTURE(large, chunk);
      sse::parser parser;
      std::size_t events = 0;
      std::size_t largest_capacity = 0; // of the buffers as the events were dispatched
      parser.on_event([&](const sse::event& e) {
        ++events;
        largest_capacity = std::max(largest_capacity, e.data.capacity());
      });
      // Both buffers hold a large event, then small ones.
      const std::string twice = event_of(large) + event_of(large);
      allocations_while_feeding(parser, twice + small, chunk);
      const bool released = largest_capacity > bound;
      const std::size_t count = allocations_while_feeding(parser, twice, chunk);
      CHECK(events == 6);
      CAPTURE(largest_capacity);
      if (large > bound) {
        CHECK(released);
      } else if (2 * (large + 66) <= bound) {
        CHECK_FALSE(released); // grown to less than twice that
      }
      // A buffer let go has to be allocated again; one kept takes the event as it is.
      if (released) {
        CHECK(count > 0);
      } else {
        CHECK(count == 0);
      }
    }
  }
}

TEST_CASE("parser: reset lets go of a buffer an event cut short grew past the bound",
          "[parser][alloc]") {
  const std::size_t bound = sse::detail::retained_data_capacity;
  sse::parser parser;
  std::size_t events = 0;
  parser.on_event([&](const sse::event&) { ++events; });
  const std::string cut = "data: " + std::string(2 * bound, 'c') + "\n"; // never dispatched
  const std::string small = "data: 1234567890\n\n";
  allocations_while_feeding(parser, cut, 16384);
  parser.reset();
  allocations_while_feeding(parser, small + small, 16384);
  CHECK(events == 2);
  // The buffer that took the cut event takes the next one (the two small events went one to
  // each buffer). Had reset kept it, it would take this one without allocating.
  CHECK(allocations_while_feeding(parser, cut, 16384) > 0);
}
