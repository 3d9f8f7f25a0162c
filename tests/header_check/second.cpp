// SPDX-License-Identifier: MIT
#include <sse/sse.hpp>

int second_translation_unit() {
  sse::parser parser;
  (void)parser.feed("data: x\n\n");
  return SSE_CLIENT_VERSION;
}
