// SPDX-License-Identifier: MIT
// Incremental text/event-stream parser: bytes in any split, events out.
#ifndef SSE_CLIENT_PARSER_HPP
#define SSE_CLIENT_PARSER_HPP

#include <sse/detail/event_slots.hpp>
#include <sse/detail/inline.hpp>
#include <sse/detail/isa.hpp>
#include <sse/detail/scan.hpp>
#include <sse/detail/short_string.hpp>
#include <sse/detail/utf8.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/limits.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {
/// The plain lane (see parser::plain_lines) reads 64 bytes at a time and leaves a chunk's last
/// 64 to the general path, which reads no byte past the chunk.
constexpr std::size_t plain_block = 64;
/// Largest data buffer capacity a parser keeps for the next event (it has two).
constexpr std::size_t retained_data_capacity = std::size_t{1} << 20;
/// A field's value: what follows the colon at `colon`, without one leading space.
SSE_CLIENT_ALWAYS_INLINE std::string_view field_value(std::string_view line,
                                                      std::size_t colon) noexcept {
  // By pointer: substr()'s range check is a call GCC does not always inline.
  const char* value = line.data() + colon + 1;
  std::size_t size = line.size() - colon - 1;
  if (size != 0 && *value == ' ') {
    ++value; // only one leading space
    --size;
  }
  return {value, size};
}
} // namespace detail

/// Options for `sse::parser`.
struct parser_options {
  /// Longest line, and largest data buffer, the parser accepts before failing with
  /// `errc::too_large`. Bounds the parser's memory.
  std::size_t max_event_size = default_max_event_size;
};

/// Parses a text/event-stream exactly as the WHATWG HTML standard's "Server-sent events" section
/// says, one chunk at a time in any split. It does no I/O and holds no lock; one parser serves one
/// stream at a time on one thread. Sinks run inside `feed()`; they may call `halt()` but must not
/// call `feed()` or `reset()`.
class parser {
public:
  /// Takes each dispatched event (see `on_event`).
  using event_sink = std::function<void(const event&)>;
  /// Takes each comment's text (see `on_comment`).
  using comment_sink = std::function<void(std::string_view text)>;
  /// Takes each valid `retry:` value (see `on_retry`).
  using retry_sink = std::function<void(std::chrono::milliseconds delay)>;
  /// Takes each field the standard does not define (see `on_unknown_field`).
  using field_sink = std::function<void(std::string_view name, std::string_view value)>;

  /// A parser at the start of a stream, with no sinks: set them before the first `feed()`.
  explicit parser(parser_options options = {}) : options_(options) {}

  /// Each dispatched event. The reference is valid during the call only; its buffers are reused,
  /// so a warm parser allocates nothing per event.
  void on_event(event_sink sink) { on_event_ = std::move(sink); }
  /// Each comment line's text after the colon (a leading space is kept).
  void on_comment(comment_sink sink) { on_comment_ = std::move(sink); }
  /// Each valid `retry:` field (ASCII digits only), as a reconnection time.
  void on_retry(retry_sink sink) { on_retry_ = std::move(sink); }
  /// Each field the standard does not define; they are otherwise ignored.
  void on_unknown_field(field_sink sink) { on_unknown_field_ = std::move(sink); }

  /// Parses the next bytes of the stream. Returns `errc::too_large` once a line or the data
  /// buffer exceeds `max_event_size`; from then on the parser ignores input until `reset()`.
  /// (`Isa` is left to its default: the parser's code then has symbols of its own for the
  /// instruction sets each file of a program is compiled for, see detail/isa.hpp.)
  template <typename Isa = detail::compiled_isa>
  std::error_code feed(std::string_view bytes);

  /// Ends the current stream: an incomplete event is discarded, as at end of stream, and the
  /// next byte fed starts a new stream (a BOM is skipped again). The last event ID is kept, so
  /// the next connection resumes from it.
  template <typename Isa = detail::compiled_isa>
  void reset() noexcept;

  /// Makes the running `feed()` return after the current event, dropping the rest of its chunk.
  /// For a sink that is about to abandon the stream (close or restart).
  void halt() noexcept { halted_ = true; }

  /// The last event ID string: set by the `id` field at dispatch, kept across `reset()`.
  const std::string& last_event_id() const noexcept { return committed().id; }
  /// Presets the last event ID (e.g. restored from storage before the first connection).
  void set_last_event_id(std::string id) {
    committed().id = std::move(id);
    id_set_ = false;
  }

  /// Whether bytes of an event not yet dispatched were seen: a stream ending now cuts an event.
  bool has_partial_event() const noexcept {
    return !line_.empty() || data_held_ != 0 || type_set_ ||
           (id_set_ && pending().id != committed().id);
  }

  /// The error that stopped the parser, or an empty code.
  std::error_code error() const noexcept { return error_; }
  /// The options this parser was built with.
  const parser_options& options() const noexcept { return options_; }

  /// Like `feed()`, but hands each event to `sink(*this, event)`, an object whose type is known
  /// at compile time, instead of to `on_event`: the call is built into the parser's loop, with
  /// no std::function between. An empty sink object costs the loop nothing to carry.
  template <typename Sink, typename Isa = detail::compiled_isa>
  std::error_code feed_to(std::string_view bytes, Sink sink);

  /// Whether an `event` field has been seen in this stream: until then every event dispatched
  /// is of type "message".
  bool types_seen() const noexcept { return types_seen_; }

private:
  // Where feed_bytes is in its chunk.
  template <typename Isa>
  struct cursor {
    const char* p;
    std::size_t n;
    std::size_t start; // where the current line's bytes in this chunk begin
    detail::special_scanner<Isa> scan;
  };
  // The functions that can dispatch an event take its sink as a template parameter, called with
  // the parser and the event: feed() passes callback_sink, the client its delivery to its
  // listeners, built into the loop instead of reached through a std::function. Every function
  // of the path takes the instruction sets of the file that calls feed() (see feed()).
  template <typename Isa>
  struct callback_sink {
    void operator()(parser& p, const event& e) const {
      if (p.on_event_) {
        p.on_event_(e);
      }
    }
  };
  template <typename Isa, typename Sink>
  void feed_bytes(std::string_view bytes, Sink sink);
  template <typename Isa, typename Sink>
  bool resume_plain(cursor<Isa>& at, Sink sink);
  template <typename Isa, typename Sink>
  std::size_t plain_lines(const char* p, std::size_t n, std::size_t start, Sink sink);
  template <typename Isa, bool Avx2, typename Sink>
  SSE_CLIENT_ALWAYS_INLINE std::size_t plain_lines_with(const char* p, std::size_t n,
                                                        std::size_t start, Sink sink);
  // The lane for AVX2, declared everywhere and defined where the AVX2 paths are built.
  template <typename Isa, typename Sink>
  SSE_CLIENT_AVX2_TARGET std::size_t plain_lines_avx2(const char* p, std::size_t n,
                                                      std::size_t start, Sink sink);
  // The lane's rare lines, out of line so that it keeps its state in registers.
  template <typename Isa, typename Sink>
  SSE_CLIENT_NOINLINE void dispatch_out_of_line(Sink sink) {
    dispatch<Isa>(sink);
  }
  template <typename Isa>
  SSE_CLIENT_NOINLINE void append_data_out_of_line(std::string_view value) {
    append_data<Isa>(value);
  }
  template <typename Isa>
  SSE_CLIENT_NOINLINE void process_other_line_out_of_line(std::string_view line, bool has_nul) {
    line_has_nul_ = has_nul;
    process_other_line<Isa>(line);
    line_has_nul_ = false;
  }
  template <typename Isa, typename Sink>
  bool special_byte(cursor<Isa>& at, std::size_t end, Sink sink);
  template <typename Isa>
  bool append_to_line(std::string_view text);
  template <typename Isa, typename Sink>
  void process_line(std::string_view line, Sink sink);
  template <typename Isa>
  void process_other_line(std::string_view line);
  template <typename Isa>
  void process_field(std::string_view name, std::string_view value);
  template <typename Isa>
  void append_data(std::string_view value);
  template <typename Isa>
  void set_id(std::string_view value);
  template <typename Isa>
  void set_type(std::string_view value);
  template <typename Isa>
  void process_retry(std::string_view value);
  template <typename Isa, typename Sink>
  void dispatch(Sink sink);
  template <typename Isa, typename Sink>
  void dispatch_data(std::size_t data_size, Sink sink);
  // A large event's sink call, then its buffer let go if it grew too large (see dispatch_data).
  template <typename Isa, typename Sink>
  SSE_CLIENT_NOINLINE void deliver_large(event& built, Sink sink) {
    sink(*this, static_cast<const event&>(built));
    if (built.data.capacity() > detail::retained_data_capacity) {
      std::string().swap(built.data);
    }
  }

  // Templates too, for a build that does not inline them (-O0), with the default that every
  // caller on the feed path has: its own file's instruction sets.
  template <typename Isa = detail::compiled_isa>
  event& committed() noexcept {
    return slots_.committed();
  }
  template <typename Isa = detail::compiled_isa>
  const event& committed() const noexcept {
    return slots_.committed();
  }
  template <typename Isa = detail::compiled_isa>
  event& pending() noexcept {
    return slots_.pending();
  }
  template <typename Isa = detail::compiled_isa>
  const event& pending() const noexcept {
    return slots_.pending();
  }
  template <typename Isa = detail::compiled_isa>
  void fail(errc code) noexcept {
    error_ = make_error_code(code);
    halted_ = true;
  }

  parser_options options_;
  event_sink on_event_;
  comment_sink on_comment_;
  retry_sink on_retry_;
  field_sink on_unknown_field_;

  detail::utf8_decoder decoder_;
  std::uint8_t bom_matched_ = 0; // bytes of a leading BOM seen so far
  bool stream_started_ = false;  // past the point where a BOM may appear
  bool after_cr_ = false;        // the last line ended with CR: a leading LF is its CRLF's half
  bool halted_ = false;
  std::error_code error_;

  std::string line_;          // a line cut by a chunk boundary
  bool line_has_nul_ = false; // the current line holds a NUL byte

  // Two events take turns: one is built from the fields while the other, dispatched last,
  // holds the last event ID string. A dispatch hands the built one over and swaps the roles,
  // so an id is copied once, from its line, and a type only when it changes.
  detail::event_slots slots_;
  // The length of the WHATWG data buffer, each data line's value and an LF: 0 until a data
  // field is seen. Its bytes begin pending().data, all but the last LF, which is written when
  // another line follows it. The string may be longer until the dispatch: short lines are
  // written in place, without a call into the library.
  std::size_t data_held_ = 0;
  bool type_set_ = false; // pending().type holds an event field's value
  // An event field was seen: a slot's type may differ from "message". Until then, as in most
  // streams, no dispatch needs to look at the type.
  bool types_seen_ = false;
  bool id_set_ = false; // pending().id holds an id field's value
};

template <typename Isa>
inline std::error_code parser::feed(std::string_view bytes) {
  return feed_to<callback_sink<Isa>, Isa>(bytes, callback_sink<Isa>{});
}

template <typename Sink, typename Isa>
std::error_code parser::feed_to(std::string_view bytes, Sink sink) {
  if (error_) {
    return error_;
  }
  halted_ = false;
  if (!stream_started_) {
    // WHATWG (UTF-8 decode): one leading BOM is skipped, even when it arrives a byte at a time.
    static constexpr std::string_view bom{"\xEF\xBB\xBF", 3};
    while (!bytes.empty() && bom_matched_ < bom.size()) {
      if (bytes.front() != bom[bom_matched_]) {
        // Not a BOM after all: the bytes held back are ordinary input.
        stream_started_ = true;
        feed_bytes<Isa>(std::string_view(bom.data(), bom_matched_), sink);
        break;
      }
      ++bom_matched_;
      bytes.remove_prefix(1);
    }
    if (bom_matched_ == bom.size()) {
      stream_started_ = true;
    }
    if (!stream_started_) {
      return {};
    }
  }
  feed_bytes<Isa>(bytes, sink);
  return error_;
}

template <typename Isa>
inline void parser::reset() noexcept {
  decoder_.reset();
  bom_matched_ = 0;
  stream_started_ = false;
  after_cr_ = false;
  halted_ = false;
  error_.clear();
  line_.clear();
  line_has_nul_ = false;
  pending().data.clear();
  if (pending().data.capacity() > detail::retained_data_capacity) {
    std::string().swap(pending().data); // an event cut short grew it (see dispatch_data)
  }
  data_held_ = 0;
  type_set_ = false;
  id_set_ = false; // an `id:` of an event that was never completed does not count
}

SSE_CLIENT_END_NAMESPACE

// The member templates of the feed path, by job.
#include <sse/detail/parser_fields.hpp>
#include <sse/detail/parser_scan.hpp>

#endif // SSE_CLIENT_PARSER_HPP
