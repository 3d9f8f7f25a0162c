// SPDX-License-Identifier: MIT
// The file of the mixed program built with default flags: check_baseline_code.py follows every
// call from sse_isa_baseline_feed and finds no instruction beyond the baseline (only the AVX2
// lane, chosen at run time, may have them); run, it parses as the AVX2 file does.
#include <sse/sse.hpp>

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

extern "C" std::size_t sse_isa_avx2_feed(sse::parser& p, std::string_view bytes);

extern "C" std::size_t sse_isa_baseline_feed(sse::parser& p, std::string_view bytes) {
  const std::error_code failure = p.feed(bytes);
  p.reset();
  return failure ? 0 : bytes.size();
}

namespace {

// Data, id, type, comment and retry lines, CRLF, non-ASCII text and an invalid byte, long
// enough for the plain lane.
std::string sample_stream() {
  std::string s;
  for (int k = 0; k < 200; ++k) {
    s += "id: " + std::to_string(k) + "\nevent: tick\ndata: caf\xC3\xA9 " + std::to_string(k) +
         "\r\ndata: \xFF second line of the event\n: comment\nretry: 1000\n\n";
  }
  return s;
}

std::vector<std::string> parse(std::size_t (*feed)(sse::parser&, std::string_view),
                               const std::string& stream) {
  std::vector<std::string> seen;
  sse::parser p;
  p.on_event([&](const sse::event& e) { seen.push_back(e.id + "/" + e.type + "/" + e.data); });
  feed(p, stream);
  return seen;
}

} // namespace

int main() {
  const std::string stream = sample_stream();
  const std::vector<std::string> baseline = parse(sse_isa_baseline_feed, stream);
  if (baseline.size() != 200) {
    std::printf("baseline file: %zu events, want 200\n", baseline.size());
    return 1;
  }
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2") ||
      !__builtin_cpu_supports("fma")) {
    std::printf("no x86-64-v3 processor: the AVX2 file is not run\n");
    return 0;
  }
  if (parse(sse_isa_avx2_feed, stream) != baseline) {
    std::printf("the two files parse differently\n");
    return 1;
  }
  std::printf("both files: 200 events, the same\n");
  return 0;
}
