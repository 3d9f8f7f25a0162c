// SPDX-License-Identifier: MIT
// Comparison and assignment for the short strings of SSE fields (types, ids), made cheap.
#ifndef SSE_CLIENT_DETAIL_SHORT_STRING_HPP
#define SSE_CLIENT_DETAIL_SHORT_STRING_HPP

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace sse::detail {

/// Equality for the short strings of fields (types, ids): the sizes first, then one memcmp
/// (a byte loop mispredicts its exit on every call).
inline bool equal_short(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

/// Assignment that reuses the capacity: clear + append skips the overlap handling of assign().
inline void assign_short(std::string& to, std::string_view from) {
  to.clear();
  to.append(from.data(), from.size());
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_SHORT_STRING_HPP
