// SPDX-License-Identifier: MIT
// Incremental UTF-8 decoder (WHATWG Encoding "UTF-8 decode"): invalid input becomes U+FFFD.
#ifndef SSE_CLIENT_DETAIL_UTF8_HPP
#define SSE_CLIENT_DETAIL_UTF8_HPP

#include <sse/detail/scan.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sse::detail {

/// U+FFFD REPLACEMENT CHARACTER, UTF-8 encoded.
inline constexpr std::string_view replacement_character{"\xEF\xBF\xBD", 3};

/// Turns bytes, in any split, into pieces of valid UTF-8. Valid runs are passed through without
/// copying; each maximal invalid subpart becomes one U+FFFD, exactly as the WHATWG decoder does,
/// and a sequence cut by a chunk boundary is completed from the next chunk.
class utf8_decoder {
public:
  /// Calls `out(std::string_view)` with consecutive valid pieces covering `in`.
  template <typename Out>
  void decode(std::string_view in, Out&& out);

  /// Drops a sequence left incomplete by the last chunk (a new stream starts).
  void reset() noexcept { pending_size_ = 0; }

private:
  // Bytes of a sequence cut by the end of the previous chunk, how long it will be, and the
  // range the next byte must fall in (WHATWG's "UTF-8 lower/upper boundary").
  char pending_[4] = {};
  std::uint8_t pending_size_ = 0;
  std::uint8_t sequence_size_ = 0;
  std::uint8_t lower_ = 0x80;
  std::uint8_t upper_ = 0xBF;
};

template <typename Out>
void utf8_decoder::decode(std::string_view in, Out&& out) {
  const char* p = in.data();
  const std::size_t n = in.size();
  std::size_t i = 0;

  // Finish the sequence the previous chunk cut short.
  while (pending_size_ != 0 && i < n) {
    const auto byte = static_cast<std::uint8_t>(p[i]);
    if (byte < lower_ || byte > upper_) {
      // WHATWG: emit U+FFFD for the incomplete sequence and reprocess this byte as a new one.
      pending_size_ = 0;
      out(replacement_character);
      break;
    }
    pending_[pending_size_++] = p[i++];
    lower_ = 0x80;
    upper_ = 0xBF;
    if (pending_size_ == sequence_size_) {
      out(std::string_view(pending_, pending_size_));
      pending_size_ = 0;
    }
  }

  std::size_t start = i; // first byte of the valid run not yet handed out
  while (i < n) {
    i = find_non_ascii(p, i, n);
    if (i == n) {
      break;
    }
    const auto lead = static_cast<std::uint8_t>(p[i]);
    std::uint8_t lower = 0x80;
    std::uint8_t upper = 0xBF;
    std::size_t size = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      size = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      size = 3;
      lower = lead == 0xE0 ? 0xA0 : 0x80; // no overlong forms
      upper = lead == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      size = 4;
      lower = lead == 0xF0 ? 0x90 : 0x80; // no overlong forms
      upper = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
      // Not a lead byte: one U+FFFD for it alone.
      if (i > start) {
        out(std::string_view(p + start, i - start));
      }
      out(replacement_character);
      start = ++i;
      continue;
    }
    std::size_t j = i + 1;
    bool valid = true;
    for (; j < i + size; ++j) {
      if (j == n) {
        // The chunk ends inside the sequence: keep its bytes for the next chunk.
        if (i > start) {
          out(std::string_view(p + start, i - start));
        }
        pending_size_ = 0;
        for (std::size_t k = i; k < n; ++k) {
          pending_[pending_size_++] = p[k];
        }
        sequence_size_ = static_cast<std::uint8_t>(size);
        lower_ = lower;
        upper_ = upper;
        return;
      }
      const auto byte = static_cast<std::uint8_t>(p[j]);
      if (byte < lower || byte > upper) {
        valid = false;
        break;
      }
      lower = 0x80;
      upper = 0xBF;
    }
    if (!valid) {
      // The maximal subpart [i, j) becomes one U+FFFD; byte j starts over.
      if (i > start) {
        out(std::string_view(p + start, i - start));
      }
      out(replacement_character);
      start = i = j;
      continue;
    }
    i = j;
  }
  if (n > start) {
    out(std::string_view(p + start, n - start));
  }
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_UTF8_HPP
