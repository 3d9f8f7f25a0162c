// SPDX-License-Identifier: MIT
// Library version; CMake reads it from here and nowhere else.
#ifndef SSE_CLIENT_VERSION_HPP
#define SSE_CLIENT_VERSION_HPP

#define SSE_CLIENT_VERSION_MAJOR 0
#define SSE_CLIENT_VERSION_MINOR 1
#define SSE_CLIENT_VERSION_PATCH 0
#define SSE_CLIENT_VERSION                                                                         \
  (SSE_CLIENT_VERSION_MAJOR * 10000 + SSE_CLIENT_VERSION_MINOR * 100 + SSE_CLIENT_VERSION_PATCH)

#endif // SSE_CLIENT_VERSION_HPP
