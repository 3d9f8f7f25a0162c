// SPDX-License-Identifier: MIT
// The parser's handling of one line: its field, and the dispatch of an event.
// sse/parser.hpp includes this file after the parser's class; it is not meant to be included on
// its own.
#ifndef SSE_CLIENT_DETAIL_PARSER_FIELDS_HPP
#define SSE_CLIENT_DETAIL_PARSER_FIELDS_HPP

#include <sse/detail/inline.hpp>
#include <sse/detail/isa.hpp>
#include <sse/detail/scan.hpp>
#include <sse/detail/short_string.hpp>
#include <sse/detail/utf8.hpp>
#include <sse/event.hpp>
#include <sse/parser.hpp>
#include <sse/version.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

SSE_CLIENT_BEGIN_NAMESPACE

// Adds text to a line cut by a chunk boundary or an invalid sequence; false once too large.
template <typename Isa>
inline bool parser::append_to_line(std::string_view text) {
  if (line_.size() + text.size() > options_.max_event_size) {
    fail(errc::too_large);
    return false;
  }
  line_.append(text);
  return true;
}

// Nearly every line of a stream is a data or id line or the blank line that ends an event:
// those are decided here by their first bytes, everything else out of line.
template <typename Isa, typename Sink>
SSE_CLIENT_ALWAYS_INLINE void parser::process_line(std::string_view line, Sink sink) {
  if (line.empty()) {
    dispatch<Isa>(sink);
  } else if (line.size() >= 5 && std::memcmp(line.data(), "data:", 5) == 0) {
    append_data<Isa>(detail::field_value(line, 4));
  } else if (line.size() >= 3 && std::memcmp(line.data(), "id:", 3) == 0) {
    set_id<Isa>(detail::field_value(line, 2));
  } else {
    process_other_line<Isa>(line);
  }
}

template <typename Isa>
inline void parser::process_other_line(std::string_view line) {
  if (line.front() == ':') {
    if (on_comment_) {
      // Not substr(): a library inline function is one copy per program, whatever the -march
      // flags of the file it came from (see isa.hpp).
      on_comment_(std::string_view(line.data() + 1, line.size() - 1));
    }
    return;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    process_field<Isa>(line, {}); // the whole line is the field name, the value is empty
    return;
  }
  process_field<Isa>(std::string_view(line.data(), colon), detail::field_value(line, colon));
}

template <typename Isa>
inline void parser::process_field(std::string_view name, std::string_view value) {
  if (name == "data") {
    append_data<Isa>(value);
  } else if (name == "id") {
    set_id<Isa>(value);
  } else if (name == "event") {
    set_type<Isa>(value);
  } else if (name == "retry") {
    process_retry<Isa>(value);
  } else if (on_unknown_field_) {
    on_unknown_field_(name, value);
  }
}

template <typename Isa>
SSE_CLIENT_ALWAYS_INLINE void parser::append_data(std::string_view value) {
  // WHATWG: the value and an LF are appended; the dispatch drops the last LF.
  const std::size_t held = data_held_ + value.size() + 1;
  if (held > options_.max_event_size) {
    fail(errc::too_large);
    return;
  }
  std::string& data = pending().data;
  // The last line's LF is written only when a line follows it, so the string need not be
  // longer than the data.
  if (value.size() <= detail::short_value) {
    // Written in place: the string is kept at least as long as the data (see dispatch).
    char* bytes = detail::writable(data, held - 1);
    if (data_held_ != 0) {
      bytes[data_held_ - 1] = '\n';
    }
    detail::copy_short(bytes + data_held_, value.data(), value.size());
  } else {
    // A long line: the library's append, whose cost its length repays.
    if (data_held_ != 0) {
      data.erase(data_held_ - 1);
      data.push_back('\n');
    } else {
      data.clear();
    }
    data.append(value.data(), value.size());
  }
  data_held_ = held;
}

template <typename Isa>
SSE_CLIENT_ALWAYS_INLINE void parser::set_id(std::string_view value) {
  // WHATWG: an id containing NUL is ignored. The scan noted any NUL of the line, and the name
  // has none.
  if (!line_has_nul_) {
    detail::assign_short(pending().id, value);
    id_set_ = true;
  }
}

template <typename Isa>
inline void parser::set_type(std::string_view value) {
  // An empty type buffer dispatches as "message"; streams mostly repeat one type, which the
  // slot then already holds.
  const std::string_view type = value.empty() ? std::string_view("message") : value;
  if (!detail::equal_short(pending().type, type)) {
    detail::assign_short(pending().type, type);
  }
  type_set_ = true;
  types_seen_ = true;
}

template <typename Isa>
inline void parser::process_retry(std::string_view value) {
  if (value.empty()) {
    return;
  }
  std::uint64_t ms = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return; // WHATWG: only ASCII digits, otherwise the field is ignored
    }
    // Saturate instead of overflowing: a huge retry means "wait as long as allowed".
    ms = ms > (UINT64_MAX - 9) / 10 ? UINT64_MAX : ms * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (on_retry_) {
    constexpr auto max_ms = static_cast<std::uint64_t>(INT64_MAX);
    on_retry_(std::chrono::milliseconds(static_cast<std::int64_t>(ms > max_ms ? max_ms : ms)));
  }
}

template <typename Isa, typename Sink>
SSE_CLIENT_ALWAYS_INLINE void parser::dispatch(Sink sink) {
  // WHATWG "dispatch the event", step by step.
  if (data_held_ == 0) {
    // 1. An id field still sets the last event ID string. 2. Nothing is dispatched, and the
    // type buffer is reset.
    if (id_set_) {
      slots_.swap_roles();
      id_set_ = false;
    }
    type_set_ = false;
    return;
  }
  dispatch_data<Isa>(data_held_ - 1, sink); // WHATWG: without the last LF
}

// The dispatch of an event with data, `data_size` bytes of it (the plain lane keeps the size
// in a register).
template <typename Isa, typename Sink>
SSE_CLIENT_ALWAYS_INLINE void parser::dispatch_data(std::size_t data_size, Sink sink) {
  event& built = pending();
  if (!id_set_ && !detail::equal_short(built.id, committed().id)) {
    // 1. No id field: the last event ID string stays; the slot takes it over.
    detail::assign_short(built.id, committed().id);
  }
  id_set_ = false;
  // 3-5. The type is "message" unless set; the data's last LF was never added.
  if (!type_set_ && types_seen_ && !detail::equal_short(built.type, "message")) {
    built.type.assign("message");
  }
  type_set_ = false;
  data_held_ = 0;
  slots_.swap_roles();
  built.data.erase(data_size);
  // The buffer keeps its length and capacity, so a warm parser does not allocate; one that
  // held an unusually large event lets it go rather than keep two of that size. Only a large
  // event looks: a buffer's capacity exceeds the bound only after this event grew it, and a
  // string grows to less than twice the length asked of it, which here is at most the data's
  // and a line end's, plus the 64 bytes writable() adds.
  if (data_size > detail::retained_data_capacity / 4) {
    deliver_large<Isa>(built, sink); // out of line: this frame keeps nothing across the sink
    return;
  }
  sink(*this, static_cast<const event&>(built));
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_PARSER_FIELDS_HPP
