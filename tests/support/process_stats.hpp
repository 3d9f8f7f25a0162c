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

/// The peak resident memory a test adds. Construction resets the kernel's high-water mark
/// (VmHWM) to the current RSS, so an earlier test's peak cannot hide this one's; where the reset
/// is refused, growth is measured above the earlier peak instead, which can only under-report.
class peak_rss_growth {
public:
  peak_rss_growth() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    baseline_kib_ = clear_refs ? status_kib("VmRSS") : status_kib("VmHWM");
  }

  /// KiB by which the peak since construction exceeds the RSS at construction.
  long kib() const { return status_kib("VmHWM") - baseline_kib_; }

private:
  long baseline_kib_ = 0;
};

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
