// SPDX-License-Identifier: MIT
// Links with second.cpp: both include the umbrella, so any non-inline definition collides.
#include <sse/sse.hpp>

int second_translation_unit();

int main() {
  return second_translation_unit() == SSE_CLIENT_VERSION ? 0 : 1;
}
