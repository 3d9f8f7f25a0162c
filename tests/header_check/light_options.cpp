// SPDX-License-Identifier: MIT
// What a file that configures a client includes stays light: the options need one constant of
// the parser's, not the parser and its SIMD intrinsics headers.
#include <sse/options.hpp>

#ifdef SSE_CLIENT_PARSER_HPP
#error "<sse/options.hpp> must not include <sse/parser.hpp>"
#endif

int light_options_max_event_size_mib() {
  return static_cast<int>(sse::client_options{}.max_event_size >> 20);
}
