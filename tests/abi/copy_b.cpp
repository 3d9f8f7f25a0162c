// SPDX-License-Identifier: MIT
// The other copy: the single header with another version number (made at configure time).
#include "sse_other_version.hpp"

const void* default_loop_of_copy_b() {
  return &sse::event_loop::default_loop();
}
const void* error_category_address_of_copy_b() {
  return &sse::error_category();
}
