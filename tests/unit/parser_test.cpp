// SPDX-License-Identifier: MIT
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

std::vector<sse::event> parse_whole(std::string_view stream) {
  std::vector<sse::event> events;
  sse::parser parser;
  parser.on_event([&](const sse::event& e) { events.push_back(e); });
  parser.feed(stream);
  return events;
}

} // namespace

TEST_CASE("parser: two events with persisting id", "[parser][whatwg]") {
  const auto events = parse_whole("id: 1\ndata: a\n\ndata: b\ndata: c\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0] == sse::event{"message", "a", "1"});
  CHECK(events[1] == sse::event{"message", "b\nc", "1"});
}
