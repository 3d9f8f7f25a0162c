// SPDX-License-Identifier: MIT
// Two versions of the single header in one program keep their statics apart: each has its own
// default loop and error category, because each lives in its own versioned inline namespace.
#include <cstdio>

const void* default_loop_of_copy_a();
const void* default_loop_of_copy_b();
const void* error_category_address_of_copy_a();
const void* error_category_address_of_copy_b();

int main() {
  const bool loops_apart = default_loop_of_copy_a() != default_loop_of_copy_b();
  const bool categories_apart =
      error_category_address_of_copy_a() != error_category_address_of_copy_b();
  std::printf("default loops %s, error categories %s\n", loops_apart ? "apart" : "MERGED",
              categories_apart ? "apart" : "MERGED");
  return loops_apart && categories_apart ? 0 : 1;
}
