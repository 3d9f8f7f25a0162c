// SPDX-License-Identifier: MIT
// UTF-8 validation (WHATWG Encoding "UTF-8 decode"): invalid input becomes U+FFFD.
#ifndef SSE_CLIENT_DETAIL_UTF8_HPP
#define SSE_CLIENT_DETAIL_UTF8_HPP

#include <sse/detail/isa.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sse::detail {

/// U+FFFD REPLACEMENT CHARACTER, UTF-8 encoded.
inline constexpr std::string_view replacement_character{"\xEF\xBF\xBD", 3};

/// What the bytes starting at a byte >= 0x80 are.
struct utf8_sequence {
  enum kind_t : std::uint8_t {
    valid,     ///< a whole character of `size` bytes
    invalid,   ///< a maximal invalid subpart of `size` bytes: one U+FFFD
    truncated, ///< a valid start of `size` bytes cut off by the end of the input
  };
  kind_t kind;
  std::size_t size;
};

/// Classifies the sequence at `p[i]` (i < n) exactly as the WHATWG "UTF-8 decoder" would
/// consume it, looking at no byte past `p[n - 1]`.
template <typename Isa = compiled_isa>
inline utf8_sequence check_utf8_sequence(const char* p, std::size_t i, std::size_t n) noexcept {
  const auto lead = static_cast<std::uint8_t>(p[i]);
  // Length from the lead byte, and the range the second byte must fall in (WHATWG's
  // "UTF-8 lower/upper boundary").
  std::size_t size = 0;
  std::uint8_t lower = 0x80;
  std::uint8_t upper = 0xBF;
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
    return {utf8_sequence::invalid, 1}; // not a lead byte: one U+FFFD for it alone
  }
  for (std::size_t k = 1; k < size; ++k) {
    if (i + k == n) {
      return {utf8_sequence::truncated, k};
    }
    const auto byte = static_cast<std::uint8_t>(p[i + k]);
    if (byte < lower || byte > upper) {
      return {utf8_sequence::invalid, k}; // byte k is not part of it: it starts over
    }
    lower = 0x80;
    upper = 0xBF;
  }
  return {utf8_sequence::valid, size};
}

/// Holds a character cut by a chunk boundary until the next chunk completes (or breaks) it.
class utf8_decoder {
public:
  /// Whether the last chunk ended inside a character.
  bool has_pending() const noexcept { return pending_size_ != 0; }

  /// Keeps the `size` bytes of a `truncated` sequence (at most 3).
  void hold(const char* p, std::size_t size) noexcept {
    pending_size_ = 0;
    for (std::size_t k = 0; k < size && k < sizeof pending_; ++k) {
      pending_[pending_size_++] = p[k];
    }
  }

  /// Completes the held character with the first bytes of `p[0, n)`, n > 0: calls `out` with
  /// the character or, when it turns out invalid, U+FFFD. Returns how many bytes of `p` it
  /// used; the byte that broke the sequence is not used (WHATWG: it is processed again).
  template <typename Out>
  std::size_t complete(const char* p, std::size_t n, Out&& out) {
    char joined[4];
    std::size_t size = pending_size_;
    for (std::size_t k = 0; k < size; ++k) {
      joined[k] = pending_[k];
    }
    for (std::size_t k = 0; k < n && size < sizeof joined; ++k) {
      joined[size++] = p[k];
    }
    const utf8_sequence seq = check_utf8_sequence(joined, 0, size);
    const std::size_t held = pending_size_;
    if (seq.kind == utf8_sequence::truncated) {
      hold(joined, size); // still not whole: the chunk was shorter than the rest of it
      return n;
    }
    pending_size_ = 0;
    out(seq.kind == utf8_sequence::valid ? std::string_view(joined, seq.size)
                                         : replacement_character);
    return seq.size - held;
  }

  /// Drops a held character (a new stream starts).
  void reset() noexcept { pending_size_ = 0; }

private:
  char pending_[3] = {};
  std::uint8_t pending_size_ = 0;
};

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_UTF8_HPP
