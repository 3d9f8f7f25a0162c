// SPDX-License-Identifier: MIT
// Naive text/event-stream parser written straight from the WHATWG prose, to check the real one.
#ifndef SSE_CLIENT_TESTS_SUPPORT_REFERENCE_PARSER_HPP
#define SSE_CLIENT_TESTS_SUPPORT_REFERENCE_PARSER_HPP

// Deliberately independent of include/sse: whole stream in, one step of the standard at a time,
// no incremental state, no speed tricks. If it disagrees with sse::parser, read the standard.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sse_test {

/// One event as the reference sees it (kept apart from sse::event on purpose).
struct reference_event {
  std::string type;
  std::string data;
  std::string id;
  friend bool operator==(const reference_event& a, const reference_event& b) {
    return a.type == b.type && a.data == b.data && a.id == b.id;
  }
};

/// Everything a stream produced: events, the optional sinks' calls, and how it ended.
struct parse_record {
  std::vector<reference_event> events;
  std::vector<std::string> comments;
  std::vector<std::int64_t> retries; // milliseconds
  std::vector<std::pair<std::string, std::string>> unknown_fields;
  std::string last_event_id;
  bool too_large = false;
  friend bool operator==(const parse_record& a, const parse_record& b) {
    return a.events == b.events && a.comments == b.comments && a.retries == b.retries &&
           a.unknown_fields == b.unknown_fields && a.last_event_id == b.last_event_id &&
           a.too_large == b.too_large;
  }
  friend bool operator!=(const parse_record& a, const parse_record& b) { return !(a == b); }
};

namespace reference_detail {

inline void append_code_point(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// WHATWG Encoding, "UTF-8 decoder", transcribed: a byte at a time, with bytes needed/seen and
// the lower/upper boundary, re-encoding each code point. The end-of-queue step (a U+FFFD for a
// sequence cut by the end of the stream) is left out: that character could only belong to the
// last, unterminated line, which is discarded, and the real parser has not seen it either when
// it checks a line's size.
inline std::string utf8_decode(const std::string& bytes) {
  std::string out;
  std::uint32_t code_point = 0;
  int bytes_seen = 0;
  int bytes_needed = 0;
  unsigned lower = 0x80;
  unsigned upper = 0xBF;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned byte = static_cast<unsigned char>(bytes[i]);
    if (bytes_needed == 0) {
      ++i;
      if (byte <= 0x7F) {
        append_code_point(out, byte);
      } else if (byte >= 0xC2 && byte <= 0xDF) {
        bytes_needed = 1;
        code_point = byte & 0x1F;
      } else if (byte >= 0xE0 && byte <= 0xEF) {
        if (byte == 0xE0) {
          lower = 0xA0;
        }
        if (byte == 0xED) {
          upper = 0x9F;
        }
        bytes_needed = 2;
        code_point = byte & 0xF;
      } else if (byte >= 0xF0 && byte <= 0xF4) {
        if (byte == 0xF0) {
          lower = 0x90;
        }
        if (byte == 0xF4) {
          upper = 0x8F;
        }
        bytes_needed = 3;
        code_point = byte & 0x7;
      } else {
        append_code_point(out, 0xFFFD);
      }
      continue;
    }
    if (byte < lower || byte > upper) {
      // Reset, emit U+FFFD and "restore byte to ioQueue": i is not advanced.
      code_point = 0;
      bytes_needed = 0;
      bytes_seen = 0;
      lower = 0x80;
      upper = 0xBF;
      append_code_point(out, 0xFFFD);
      continue;
    }
    ++i;
    lower = 0x80;
    upper = 0xBF;
    code_point = (code_point << 6) | (byte & 0x3F);
    ++bytes_seen;
    if (bytes_seen == bytes_needed) {
      append_code_point(out, code_point);
      code_point = 0;
      bytes_needed = 0;
      bytes_seen = 0;
    }
  }
  return out;
}

} // namespace reference_detail

/// Parses a whole stream. `max_size` bounds a line and the data buffer as sse::parser_options
/// does; exceeding it sets `too_large` and ends parsing there.
inline parse_record reference_parse(const std::string& stream, std::size_t max_size,
                                    std::string last_event_id = {}) {
  parse_record record;
  // "UTF-8 decode": one leading BOM is removed.
  std::string bytes = stream;
  if (bytes.size() >= 3 && bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    bytes.erase(0, 3);
  }
  const std::string text = reference_detail::utf8_decode(bytes);

  // Split into lines at CRLF, LF or CR; `complete` is false for the unterminated tail.
  struct line_t {
    std::string text;
    bool complete;
  };
  std::vector<line_t> lines;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      lines.push_back({current, true});
      current.clear();
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
    } else if (c == '\n') {
      lines.push_back({current, true});
      current.clear();
    } else {
      current += c;
    }
  }
  lines.push_back({current, false});

  std::string data;
  std::string type;
  std::string id_buffer = last_event_id;
  for (const line_t& line : lines) {
    if (line.text.size() > max_size) {
      record.too_large = true;
      break;
    }
    if (!line.complete) {
      break; // end of stream: the incomplete event is discarded
    }
    const std::string& l = line.text;
    if (l.empty()) {
      // "Dispatch the event".
      last_event_id = id_buffer;
      if (data.empty()) {
        type.clear();
        continue;
      }
      if (data.back() == '\n') {
        data.pop_back();
      }
      record.events.push_back({type.empty() ? "message" : type, data, last_event_id});
      data.clear();
      type.clear();
      continue;
    }
    if (l[0] == ':') {
      record.comments.push_back(l.substr(1));
      continue;
    }
    std::string name;
    std::string value;
    const std::size_t colon = l.find(':');
    if (colon == std::string::npos) {
      name = l;
    } else {
      name = l.substr(0, colon);
      value = l.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') {
        value.erase(0, 1);
      }
    }
    if (name == "event") {
      type = value;
    } else if (name == "data") {
      if (data.size() + value.size() + 1 > max_size) {
        record.too_large = true;
        break;
      }
      data += value;
      data += '\n';
    } else if (name == "id") {
      if (value.find('\0') == std::string::npos) {
        id_buffer = value;
      }
    } else if (name == "retry") {
      bool digits = !value.empty();
      for (const char c : value) {
        digits = digits && c >= '0' && c <= '9';
      }
      if (digits) {
        // Huge values are clamped to the largest std::chrono::milliseconds count.
        std::int64_t ms = 0;
        for (const char c : value) {
          const std::int64_t digit = c - '0';
          ms = ms > (INT64_MAX - digit) / 10 ? INT64_MAX : ms * 10 + digit;
        }
        record.retries.push_back(ms);
      }
    } else {
      record.unknown_fields.emplace_back(name, value);
    }
  }
  record.last_event_id = last_event_id;
  return record;
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_REFERENCE_PARSER_HPP
