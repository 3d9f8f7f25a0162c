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
class stream; // reads what only the client needs of a parser
/// The plain lane (see parser::plain_lines) reads 64 bytes at a time and leaves a chunk's last
/// 64 to the general path, which reads no byte past the chunk.
constexpr std::size_t plain_block = 64;
/// Largest data buffer capacity a parser keeps for the next event (it has two).
constexpr std::size_t retained_data_capacity = std::size_t{1} << 20;
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

private:
  friend class detail::stream; // for types_seen() and feed_to()

  // Where feed_bytes is in its chunk.
  template <typename Isa>
  struct cursor {
    const char* p;
    std::size_t n;
    std::size_t start; // where the current line's bytes in this chunk begin
    detail::special_scanner<Isa> scan;
  };
  // The functions that can dispatch an event take its sink as a template parameter: an empty
  // object called with the parser and the event. feed() passes callback_sink, and the client
  // its delivery to its listeners, which the compiler then builds into the plain lane instead
  // of reaching it through a std::function (a call, and the lane's registers saved around it,
  // per event). Being empty, a sink costs the lane no register. Every function of the path
  // takes the instruction sets of the file that calls feed() (see feed()).
  template <typename Isa>
  struct callback_sink {
    void operator()(parser& p, const event& e) const {
      if (p.on_event_) {
        p.on_event_(e);
      }
    }
  };
  template <typename Sink, typename Isa = detail::compiled_isa>
  std::error_code feed_to(std::string_view bytes, Sink sink);
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

  // Whether an event field was seen: until then, every event dispatched is of type "message".
  bool types_seen() const noexcept { return types_seen_; }

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
  bool id_set_ = false;              // pending().id holds an id field's value
  detail::stream* stream_ = nullptr; // the client's stream that feeds this parser, for its sink
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

namespace detail {
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

// One pass over the raw bytes finds line ends and validates UTF-8 together: a line made of
// valid text is processed where it lies, and only a line that continues in the next chunk or
// holds an invalid sequence (which U+FFFD replaces) is copied to line_.
template <typename Isa, typename Sink>
void parser::feed_bytes(std::string_view bytes, Sink sink) {
  const char* p = bytes.data();
  const std::size_t n = bytes.size();
  if (n == 0) {
    return;
  }
  std::size_t i = 0;
  if (after_cr_) {
    // WHATWG: CRLF is one line end, also when CR ended the previous chunk.
    after_cr_ = false;
    if (p[0] == '\n') {
      i = 1;
    }
  }
  if (decoder_.has_pending() && i < n) {
    // A character cut by the previous chunk boundary (its line goes on in line_).
    i += decoder_.complete(p + i, n - i,
                           [this](std::string_view text) { append_to_line<Isa>(text); });
    if (halted_) {
      return; // the character made the line too long
    }
  }
  cursor<Isa> at{p, n, i, detail::special_scanner<Isa>(p, n)};
  at.scan.skip_to(i);
  if (line_.empty() && !decoder_.has_pending() && !resume_plain<Isa>(at, sink)) {
    return; // a sink halted the parser
  }
  const std::size_t max_line = options_.max_event_size;
  for (;;) {
    const std::size_t end = at.scan.next();
    if (end == n) {
      break;
    }
    const char c = p[end];
    if ((c == '\n' || (c == '\r' && end + 1 < n && p[end + 1] == '\n')) && line_.empty() &&
        end - at.start <= max_line) {
      // Nearly every line: whole in this chunk, valid text, ended by LF or CRLF.
      std::size_t next = end + 1;
      if (c == '\n') {
        at.scan.pop();
      } else {
        at.scan.skip_to(++next); // the CR and its LF
      }
      process_line<Isa>(std::string_view(p + at.start, end - at.start), sink);
      if (halted_) {
        return;
      }
      line_has_nul_ = false;
      at.start = next;
      if (!resume_plain<Isa>(at, sink)) {
        return;
      }
      continue;
    }
    if (!special_byte<Isa>(at, end, sink)) {
      return;
    }
  }
  append_to_line<Isa>(std::string_view(p + at.start, n - at.start)); // it goes on in the next chunk
}

// At a line start (the chunk's first, or after a line the general path took), the plain lane
// takes the lines it can. False when a sink halted the parser.
template <typename Isa, typename Sink>
SSE_CLIENT_ALWAYS_INLINE bool parser::resume_plain(cursor<Isa>& at, Sink sink) {
  if (at.n - at.start < detail::plain_block) {
    return true;
  }
  const std::size_t resumed = plain_lines<Isa>(at.p, at.n, at.start, sink);
  if (halted_) {
    return false;
  }
  if (resumed != at.start) {
    at.start = resumed;
    at.scan.skip_to(resumed);
  }
  return true;
}

template <typename Isa, typename Sink>
std::size_t parser::plain_lines(const char* p, std::size_t n, std::size_t start, Sink sink) {
#if defined(SSE_CLIENT_AVX2_AT_RUN_TIME)
  if (detail::has_avx2<Isa>()) {
    return plain_lines_avx2<Isa>(p, n, start, sink);
  }
  return plain_lines_with<Isa, false>(p, n, start, sink);
#elif defined(SSE_CLIENT_AVX2)
  return plain_lines_with<Isa, true>(p, n, start, sink); // compiled for AVX2 as a whole
#else
  return plain_lines_with<Isa, false>(p, n, start, sink);
#endif
}

#if defined(SSE_CLIENT_AVX2_AT_RUN_TIME)
// The lane compiled for AVX2 and BMI1 as a whole: the classifier inline, bit scans in one
// instruction each.
template <typename Isa, typename Sink>
SSE_CLIENT_AVX2_TARGET std::size_t parser::plain_lines_avx2(const char* p, std::size_t n,
                                                            std::size_t start, Sink sink) {
  return plain_lines_with<Isa, true>(p, n, start, sink);
}
#endif

// The plain lane: every line from `start` that lies whole in the chunk, as nearly every line
// does, with the parser's state in registers. It leaves to the general path a line with an
// invalid or cut UTF-8 sequence or one too long, a CR that ends the chunk or whose LF starts the
// next block, and the chunk's last 64 bytes; it returns where the first line it did not take
// begins. A line is taken whole or not at all, so the general path can start over there.
template <typename Isa, bool Avx2, typename Sink>
SSE_CLIENT_ALWAYS_INLINE std::size_t
parser::plain_lines_with(const char* const p, const std::size_t n, std::size_t start, Sink sink) {
  constexpr std::size_t block_size = detail::plain_block;
  // Lines that end before `stop` are shorter than the limit, and the data they add keeps the
  // buffer within it: data grows by at most a line's length per line. So the lane checks
  // neither, and leaves what lies past `stop` to the general path, which does.
  const std::size_t limit = options_.max_event_size;
  const std::size_t room = limit > data_held_ ? limit - data_held_ : 0;
  const std::size_t stop = n - start > room ? start + room : n;
  if (stop - start < block_size) {
    return start;
  }
  // The special bytes of the 64 from `block` not yet consumed.
  std::size_t block = start;
  std::uint64_t mask = detail::special_mask<Isa, Avx2>(p + block);
  // The data buffer's length in a local (written back before anything that reads the member),
  // and where the last NUL was: a line holds one when that lies past its start.
  std::size_t held = data_held_;
  std::size_t nul_end = 0;
  const auto store_state = [&] { data_held_ = held; };
  const auto load_state = [&] { held = data_held_; };
  for (;;) {
    // Marked rare: the compiler then tests the mask at the bottom of the loop, after the line
    // that cleared a bit, with no jump back to a test at the top.
    if (SSE_CLIENT_UNLIKELY(mask == 0)) {
      do {
        block += block_size;
        if (stop - block < block_size) {
          store_state();
          return start;
        }
        mask = detail::special_mask<Isa, Avx2>(p + block);
      } while (mask == 0);
    }
    const std::size_t end = block + detail::count_trailing_zeros<Isa>(mask);
    const char c = p[end];
    std::size_t next = end + 1; // where the next line begins
    if (c != '\n') {
      if (c == '\0') {
        nul_end = next; // noted for the id field; otherwise an ordinary character
        mask &= mask - 1;
        continue;
      }
      if (c != '\r') {
        const detail::utf8_sequence seq = detail::check_utf8_sequence<Isa>(p, end, n);
        if (seq.kind != detail::utf8_sequence::valid) {
          break; // the general path writes U+FFFD, or holds the cut sequence
        }
        const std::size_t after = end + seq.size;
        if (after - block < block_size) {
          mask &= ~std::uint64_t{0} << (after - block); // the sequence's bytes are consumed
          continue;
        }
        block = after; // the sequence runs into the next block, which starts after it
        if (block > stop || stop - block < block_size) {
          break; // it may end past `stop`: the general path takes its line
        }
        mask = detail::special_mask<Isa, Avx2>(p + block);
        continue;
      }
      if (next == n) {
        break; // a CR ending the chunk: an LF may follow in the next one
      }
      if (p[next] == '\n') {
        if (next - block == block_size) {
          break; // its LF starts the next block
        }
        ++next;
        mask &= mask - 1; // the CR's bit; the LF's goes below, as a lone LF's does
      }
    }
    const std::size_t size = end - start;
    const char* const line = p + start;
    // The blank line that ends an event, or a data line and such a line after it: the line
    // after a data line is most often blank, and is taken with it, without a turn of the loop.
    // (A field line is marked likely longer than 4 bytes: without the hint, the compiler may
    // place the field tests away from the loop, a taken jump per line.)
    bool ends_event = size == 0;
    if (ends_event) {
      // dispatched below
    } else if (SSE_CLIENT_LIKELY(size >= 5) && std::memcmp(line, "data:", 5) == 0) {
      const std::string_view value = detail::field_value(std::string_view(line, size), 4);
      if (value.size() <= detail::short_value) {
        char* bytes = detail::writable(pending().data, held + value.size());
        if (held != 0) {
          bytes[held - 1] = '\n'; // the last line's, written when a line follows it
        }
        detail::copy_short(bytes + held, value.data(), value.size());
        held += value.size() + 1;
      } else {
        store_state();
        append_data_out_of_line<Isa>(value); // long
        if (halted_) {
          return next;
        }
        load_state();
      }
      if (next - block < block_size && p[next] == '\n') {
        ends_event = true; // its LF is the next bit of the mask
        mask &= mask - 1;
        ++next;
      }
    } else if (size >= 3 && std::memcmp(line, "id:", 3) == 0) {
      if (nul_end <= start) {
        detail::assign_short(pending().id, detail::field_value(std::string_view(line, size), 2));
        id_set_ = true;
      }
    } else if (size >= 6 && std::memcmp(line, "event:", 6) == 0) {
      set_type<Isa>(detail::field_value(std::string_view(line, size), 5));
    } else {
      store_state();
      process_other_line_out_of_line<Isa>(std::string_view(line, size), nul_end > start);
      if (halted_) {
        return next;
      }
      load_state();
    }
    if (ends_event) {
      if (held != 0) {
        dispatch_data<Isa>(held - 1, sink); // WHATWG: without the last LF
        held = 0;
      } else {
        store_state();
        dispatch_out_of_line<Isa>(sink); // an id alone still sets the last event ID
      }
      if (halted_) {
        return next;
      }
    }
    start = next;
    mask &= mask - 1;
  }
  store_state();
  return start;
}

// Every other special byte: a line end after a line cut by a chunk boundary or repaired, CR,
// NUL, a byte >= 0x80, a line too long. Returns false when the chunk is done with.
template <typename Isa, typename Sink>
bool parser::special_byte(cursor<Isa>& at, std::size_t end, Sink sink) {
  const char* p = at.p;
  const std::size_t n = at.n;
  const char c = p[end];
  if (c != '\n' && c != '\r') {
    if (c == '\0') {
      line_has_nul_ = true; // noted for the id field; otherwise an ordinary character
      at.scan.pop();
      return true;
    }
    const detail::utf8_sequence seq = detail::check_utf8_sequence<Isa>(p, end, n);
    const std::size_t next = end + seq.size;
    at.scan.skip_to(next);
    if (seq.kind == detail::utf8_sequence::valid) {
      return true; // the line goes on
    }
    if (!append_to_line<Isa>(std::string_view(p + at.start, end - at.start))) {
      return false;
    }
    if (seq.kind == detail::utf8_sequence::truncated) {
      decoder_.hold(p + end, seq.size); // completed by the next chunk
      return false;
    }
    // WHATWG: each maximal invalid subpart becomes one U+FFFD.
    if (!append_to_line<Isa>(detail::replacement_character)) {
      return false;
    }
    at.start = next;
    return true;
  }
  std::string_view line(p + at.start, end - at.start);
  if (!line_.empty()) {
    // The line began in an earlier chunk or holds a repaired sequence.
    if (!append_to_line<Isa>(line)) {
      return false;
    }
    line = line_;
  } else if (line.size() > options_.max_event_size) {
    fail(errc::too_large);
    return false;
  }
  std::size_t next = end + 1;
  if (c == '\r') {
    if (next == n) {
      after_cr_ = true; // dispatch now; an LF starting the next chunk is not a new line
    } else if (p[next] == '\n') {
      ++next;
    }
  }
  at.scan.skip_to(next);
  process_line<Isa>(line, sink);
  if (halted_) {
    return false;
  }
  if (!line_.empty()) {
    line_.clear();
  }
  line_has_nul_ = false;
  at.start = next;
  return resume_plain<Isa>(at, sink);
}

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
#endif // SSE_CLIENT_PARSER_HPP
