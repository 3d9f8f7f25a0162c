// SPDX-License-Identifier: MIT
// One of two copies of the single header in one program: this one as released.
#include <sse/sse.hpp>

const void* default_loop_of_copy_a() {
  return &sse::event_loop::default_loop();
}
const void* error_category_address_of_copy_a() {
  return &sse::error_category();
}
