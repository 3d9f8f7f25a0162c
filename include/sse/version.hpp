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

// Everything the library declares lives in a versioned inline namespace inside `sse`, as in
// {fmt}: two copies of different versions in one program (say, the single header vendored by two
// libraries) then keep their types and statics (the default loop, the CPU check) apart, while
// users still write `sse::client`.

/// Pastes `v<major>_<minor>_<patch>` (after expanding the arguments, see SSE_CLIENT_ABI_NAME).
#define SSE_CLIENT_ABI_NAME_(major, minor, patch) v##major##_##minor##_##patch
/// The name of the inline namespace of a version, e.g. `v0_1_0`.
#define SSE_CLIENT_ABI_NAME(major, minor, patch) SSE_CLIENT_ABI_NAME_(major, minor, patch)
/// The inline namespace of this version, inside `sse`.
#define SSE_CLIENT_ABI_NAMESPACE                                                                   \
  SSE_CLIENT_ABI_NAME(SSE_CLIENT_VERSION_MAJOR, SSE_CLIENT_VERSION_MINOR, SSE_CLIENT_VERSION_PATCH)
/// Opens `namespace sse` and this version's inline namespace in it.
#define SSE_CLIENT_BEGIN_NAMESPACE                                                                 \
  namespace sse {                                                                                  \
  inline namespace SSE_CLIENT_ABI_NAMESPACE {
/// Closes what SSE_CLIENT_BEGIN_NAMESPACE opened.
#define SSE_CLIENT_END_NAMESPACE                                                                   \
  }                                                                                                \
  }

#endif // SSE_CLIENT_VERSION_HPP
