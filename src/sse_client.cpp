// SPDX-License-Identifier: MIT
// Compiled mode: compile this file once and define SSE_CLIENT_SEPARATE_COMPILATION in every file
// of the program (the sse_client::compiled CMake target does both). The headers then only declare
// the client, the loop and the cookie jar, which this file defines.
#define SSE_CLIENT_SOURCE
#ifndef SSE_CLIENT_SEPARATE_COMPILATION
#define SSE_CLIENT_SEPARATE_COMPILATION
#endif

#include <sse/sse.hpp>
