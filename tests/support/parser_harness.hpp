// SPDX-License-Identifier: MIT
// Runs sse::parser over a stream cut into chunks and records everything it reports.
#ifndef SSE_CLIENT_TESTS_SUPPORT_PARSER_HARNESS_HPP
#define SSE_CLIENT_TESTS_SUPPORT_PARSER_HARNESS_HPP

#include <sse/sse.hpp>

#include "reference_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sse_test {

/// Feeds `stream` to a fresh parser, cut before each offset in `cuts` (sorted, any duplicates
/// give empty chunks), and records what it reported. Stops feeding at the first error, as a
/// client would.
inline parse_record run_parser(std::string_view stream, const std::vector<std::size_t>& cuts,
                               std::size_t max_size = sse::default_max_event_size,
                               const std::string& last_event_id = {}) {
  parse_record record;
  sse::parser_options options;
  options.max_event_size = max_size;
  sse::parser parser(options);
  if (!last_event_id.empty()) {
    parser.set_last_event_id(last_event_id);
  }
  parser.on_event([&](const sse::event& e) { record.events.push_back({e.type, e.data, e.id}); });
  parser.on_comment([&](std::string_view text) { record.comments.emplace_back(text); });
  parser.on_retry([&](std::chrono::milliseconds ms) { record.retries.push_back(ms.count()); });
  parser.on_unknown_field([&](std::string_view name, std::string_view value) {
    record.unknown_fields.emplace_back(std::string(name), std::string(value));
  });
  std::size_t from = 0;
  std::error_code ec;
  for (std::size_t i = 0; i <= cuts.size() && !ec; ++i) {
    const std::size_t to = i < cuts.size() ? std::min(cuts[i], stream.size()) : stream.size();
    ec = parser.feed(stream.substr(from, to - from));
    from = std::max(from, to);
  }
  record.too_large = ec == sse::errc::too_large;
  // End of stream: whatever is incomplete is dropped, the last event ID string stays.
  parser.reset();
  record.last_event_id = parser.last_event_id();
  return record;
}

/// Every offset: the stream fed one byte at a time.
inline std::vector<std::size_t> byte_cuts(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) {
    cuts.push_back(i);
  }
  return cuts;
}

/// Up to `max_cuts` random offsets, sorted; duplicates (empty chunks) are allowed on purpose.
template <typename Rng>
std::vector<std::size_t> random_cuts(std::size_t size, Rng& rng, std::size_t max_cuts = 16) {
  std::vector<std::size_t> cuts;
  if (size == 0) {
    return cuts;
  }
  const std::size_t count = std::uniform_int_distribution<std::size_t>(0, max_cuts)(rng);
  std::uniform_int_distribution<std::size_t> at(0, size);
  for (std::size_t i = 0; i < count; ++i) {
    cuts.push_back(at(rng));
  }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

/// Bytes as C-style escapes, for failure messages.
inline std::string escape(std::string_view bytes) {
  std::ostringstream out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out << "\\n";
    } else if (c == '\r') {
      out << "\\r";
    } else if (c == '\\' || c == '"') {
      out << '\\' << c;
    } else if (byte < 0x20 || byte >= 0x7F) {
      static constexpr char hex[] = "0123456789ABCDEF";
      out << "\\x" << hex[byte >> 4] << hex[byte & 0xF];
    } else {
      out << c;
    }
  }
  return out.str();
}

/// A readable dump of a record, for failure messages.
inline std::string describe(const parse_record& r) {
  std::ostringstream out;
  out << "events(" << r.events.size() << "):";
  for (const auto& e : r.events) {
    out << " {" << escape(e.type) << "|" << escape(e.data) << "|" << escape(e.id) << "}";
  }
  out << "\ncomments(" << r.comments.size() << "):";
  for (const auto& c : r.comments) {
    out << " \"" << escape(c) << "\"";
  }
  out << "\nretries:";
  for (const auto ms : r.retries) {
    out << ' ' << ms;
  }
  out << "\nunknown fields:";
  for (const auto& f : r.unknown_fields) {
    out << " " << escape(f.first) << "=" << escape(f.second);
  }
  out << "\nlast event id: \"" << escape(r.last_event_id) << "\"\ntoo large: " << r.too_large;
  return out.str();
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_PARSER_HARNESS_HPP
