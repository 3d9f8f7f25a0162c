// SPDX-License-Identifier: MIT
// Library version; CMake reads it from here and nowhere else.
#ifndef SSE_CLIENT_VERSION_HPP
#define SSE_CLIENT_VERSION_HPP

/// Major version: 0 while the API may change between minor versions.
#define SSE_CLIENT_VERSION_MAJOR 0
/// Minor version.
#define SSE_CLIENT_VERSION_MINOR 1
/// Patch version.
#define SSE_CLIENT_VERSION_PATCH 0
/// The version as one number, major * 10000 + minor * 100 + patch, for `#if`.
#define SSE_CLIENT_VERSION                                                                         \
  (SSE_CLIENT_VERSION_MAJOR * 10000 + SSE_CLIENT_VERSION_MINOR * 100 + SSE_CLIENT_VERSION_PATCH)

#endif // SSE_CLIENT_VERSION_HPP
