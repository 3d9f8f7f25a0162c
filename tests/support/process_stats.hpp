// SPDX-License-Identifier: MIT
// This process's memory and descriptors, from /proc, for tests that bound growth.
#ifndef SSE_CLIENT_TESTS_SUPPORT_PROCESS_STATS_HPP
#define SSE_CLIENT_TESTS_SUPPORT_PROCESS_STATS_HPP

#include <dirent.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>

namespace sse_test {

/// A /proc/self/status field in KiB (VmRSS, VmHWM); -1 when absent.
inline long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::atol(line.c_str() + field.size() + 1);
    }
  }
  return -1;
}

/// Entries of /proc/self/fd: the open descriptors, plus the directory's own.
inline std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) {
      ++n;
    }
    closedir(dir);
  }
  return n;
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_PROCESS_STATS_HPP
