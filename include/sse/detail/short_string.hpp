// SPDX-License-Identifier: MIT
// Comparison and assignment for the short strings of SSE fields (types, ids), made cheap.
#ifndef SSE_CLIENT_DETAIL_SHORT_STRING_HPP
#define SSE_CLIENT_DETAIL_SHORT_STRING_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sse::detail {

/// Equality for the short strings of fields (types, ids), inline: words compared in place of a
/// call to memcmp, which costs more than the comparison for a type like "message". Reads only
/// the bytes of the two views.
inline bool equal_short(std::string_view a, std::string_view b) noexcept {
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

/// Assignment that reuses the capacity: clear + append skips the overlap handling of assign().
inline void assign_short(std::string& to, std::string_view from) {
  to.clear();
  to.append(from.data(), from.size());
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_SHORT_STRING_HPP
