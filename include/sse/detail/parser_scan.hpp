// SPDX-License-Identifier: MIT
// The parser's walk over a chunk: the plain lane for whole lines, the general path for the rest.
// sse/parser.hpp includes this file after the parser's class; it is not meant to be included on
// its own.
#ifndef SSE_CLIENT_DETAIL_PARSER_SCAN_HPP
#define SSE_CLIENT_DETAIL_PARSER_SCAN_HPP

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

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_PARSER_SCAN_HPP
