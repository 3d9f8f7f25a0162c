// SPDX-License-Identifier: MIT
// Comparison and assignment for the short strings of SSE fields (types, ids), made cheap.
#ifndef SSE_CLIENT_DETAIL_SHORT_STRING_HPP
#define SSE_CLIENT_DETAIL_SHORT_STRING_HPP

#include <sse/detail/inline.hpp>
#include <sse/version.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Equality for the short strings of fields (types, ids), inline: words compared in place of a
/// call to memcmp, which costs more than the comparison for a type like "message". Reads only
/// the bytes of the two views.
SSE_CLIENT_ALWAYS_INLINE bool equal_short(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) {
    return false;
  }
  const char* x = a.data();
  const char* y = b.data();
  const auto word8 = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  const auto word4 = [](const char* p) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  if (n >= 8) {
    for (std::size_t k = 0; k + 8 < n; k += 8) {
      if (word8(x + k) != word8(y + k)) {
        return false;
      }
    }
    return word8(x + n - 8) == word8(y + n - 8); // the last 8, overlapping the loop's
  }
  if (n >= 4) {
    return word4(x) == word4(y) && word4(x + n - 4) == word4(y + n - 4);
  }
  // 0 to 3 bytes: the first, middle and last cover them all.
  return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

/// The longest value copy_short copies inline.
constexpr std::size_t short_value = 64;

/// Copies one block of a fixed size (an integer or an array of 16), by value.
template <typename Block>
SSE_CLIENT_ALWAYS_INLINE void copy_block(char* to, const char* from) noexcept {
  Block block;
  std::memcpy(&block, from, sizeof block);
  std::memcpy(to, &block, sizeof block);
}

struct block16 {
  char bytes[16];
};

/// copy_short for 0 to 16 bytes: two blocks, one from each end, overlapping in the middle.
SSE_CLIENT_ALWAYS_INLINE void copy_up_to_16(char* to, const char* from, std::size_t n) noexcept {
  if (n >= 8) {
    copy_block<std::uint64_t>(to, from);
    copy_block<std::uint64_t>(to + n - 8, from + n - 8);
  } else if (n >= 4) {
    copy_block<std::uint32_t>(to, from);
    copy_block<std::uint32_t>(to + n - 4, from + n - 4);
  } else if (n != 0) {
    // 1 to 3 bytes: the first, middle and last cover them all.
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

/// Copies `n` bytes between buffers that do not overlap: inline up to 64 bytes, the length of
/// nearly every field value, where a call to memcpy would cost more than the copy. With
/// `SmallFirst`, the sizes of short ids and types are tested first, else those of data lines.
template <bool SmallFirst = false>
SSE_CLIENT_ALWAYS_INLINE void copy_short(char* to, const char* from, std::size_t n) noexcept {
  if (SmallFirst && n <= 16) {
    copy_up_to_16(to, from, n);
  } else if (n > 64) {
    std::memcpy(to, from, n);
  } else if (n > 32) {
    // Two blocks of 32, one from each end: 33 to 64 bytes.
    block16 a;
    block16 b;
    block16 c;
    block16 d;
    std::memcpy(&a, from, 16);
    std::memcpy(&b, from + 16, 16);
    std::memcpy(&c, from + n - 32, 16);
    std::memcpy(&d, from + n - 16, 16);
    std::memcpy(to, &a, 16);
    std::memcpy(to + 16, &b, 16);
    std::memcpy(to + n - 32, &c, 16);
    std::memcpy(to + n - 16, &d, 16);
  } else if (n > 16) {
    copy_block<block16>(to, from);
    copy_block<block16>(to + n - 16, from + n - 16);
  } else {
    copy_up_to_16(to, from, n);
  }
}

/// The bytes of `s`, made at least `size` long first. A string the parser reuses keeps its
/// length between uses, so this rarely calls into the library; when it must, it adds room for
/// the next short write too.
// writable()'s rare case, out of line: its caller keeps no register across a library call.
SSE_CLIENT_NOINLINE inline char* grow_for_write(std::string& s, std::size_t size) {
  constexpr std::size_t room = 64;
  s.append(size - s.size() + room, '\0');
  return &s[0];
}

SSE_CLIENT_ALWAYS_INLINE char* writable(std::string& s, std::size_t size) {
  if (s.size() < size) {
    return grow_for_write(s, size);
  }
  return &s[0];
}

/// Assignment without a call into the library while `to` is already long enough: a reused
/// string gets its length by erase() and then the bytes by copy_short, both inline. In this
/// order the compiler knows the length is in range and need not read it again after the copy.
SSE_CLIENT_ALWAYS_INLINE void assign_short(std::string& to, std::string_view from) {
  writable(to, from.size());
  to.erase(from.size());
  copy_short<true>(&to[0], from.data(), from.size()); // ids and types are mostly short
}

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_SHORT_STRING_HPP
