// SPDX-License-Identifier: MIT
// The parser fuzz check, shared by the libFuzzer target and the ctest corpus replay.
#ifndef SSE_CLIENT_FUZZ_PARSER_FUZZ_CHECK_HPP
#define SSE_CLIENT_FUZZ_PARSER_FUZZ_CHECK_HPP

#include "../tests/support/parser_harness.hpp"
#include "../tests/support/reference_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sse_fuzz {

// Input layout, so the fuzzer steers the splits as well as the bytes:
//   byte 0       bits 0-3: number of cuts; bit 7: use a small max_event_size (bits 4-6 pick it)
//   next 2*cuts  little-endian cut offsets, taken modulo the stream size + 1
//   the rest     the stream
struct fuzz_input {
  std::string stream;
  std::vector<std::size_t> cuts;
  std::size_t max_size = sse::default_max_event_size;
};

inline fuzz_input decode_input(const std::uint8_t* data, std::size_t size) {
  fuzz_input in;
  if (size == 0) {
    return in;
  }
  const unsigned header = data[0];
  std::size_t cut_count = header & 0x0Fu;
  if ((header & 0x80u) != 0) {
    // Small limits make the too_large paths reachable with small inputs.
    in.max_size = 1 + ((header >> 4) & 0x07u) * 9;
  }
  std::size_t pos = 1;
  if (size - pos < 2 * cut_count) {
    cut_count = (size - pos) / 2;
  }
  std::vector<std::uint16_t> raw;
  for (std::size_t i = 0; i < cut_count; ++i, pos += 2) {
    raw.push_back(static_cast<std::uint16_t>(data[pos] | (data[pos + 1] << 8)));
  }
  in.stream.assign(reinterpret_cast<const char*>(data + pos), size - pos);
  for (const std::uint16_t r : raw) {
    in.cuts.push_back(r % (in.stream.size() + 1));
  }
  std::sort(in.cuts.begin(), in.cuts.end());
  return in;
}

/// Runs the checks on one fuzzer input; returns an empty string when they hold, else what
/// differed. Checks: the stream fed whole, at the input's cuts and (for small inputs) a byte at
/// a time reports exactly the same things, and the same as the reference parser.
inline std::string check_parser_input(const std::uint8_t* data, std::size_t size) {
  const fuzz_input in = decode_input(data, size);
  const sse_test::parse_record whole = sse_test::run_parser(in.stream, {}, in.max_size);
  const sse_test::parse_record split = sse_test::run_parser(in.stream, in.cuts, in.max_size);
  const sse_test::parse_record reference = sse_test::reference_parse(in.stream, in.max_size);
  std::string failure;
  const auto compare = [&](const char* what, const sse_test::parse_record& got) {
    if (failure.empty() && got != reference) {
      failure = std::string(what) + " differs from the reference parser\nstream: \"" +
                sse_test::escape(in.stream) + "\"\nmax_event_size: " + std::to_string(in.max_size) +
                "\n--- " + what + ":\n" + sse_test::describe(got) + "\n--- reference:\n" +
                sse_test::describe(reference);
    }
  };
  compare("whole", whole);
  compare("split", split);
  if (in.stream.size() <= 4096) {
    compare("byte by byte",
            sse_test::run_parser(in.stream, sse_test::byte_cuts(in.stream.size()), in.max_size));
  }
  return failure;
}

} // namespace sse_fuzz
#endif // SSE_CLIENT_FUZZ_PARSER_FUZZ_CHECK_HPP
