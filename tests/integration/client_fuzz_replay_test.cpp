// SPDX-License-Identifier: MIT
// Replays fuzz/corpus/client through the client fuzz target's check (real client, real socket),
// so ctest covers the corpus without clang.
#include <sse/sse.hpp>

#include "../../fuzz/client_fuzz_check.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

TEST_CASE("fuzz corpus: every client input agrees with the parser over a socket",
          "[client][fuzz][integration]") {
  const std::filesystem::path dir = std::filesystem::path(SSE_CLIENT_FUZZ_CORPUS_DIR) / "client";
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);
  for (const auto& file : files) {
    INFO("corpus file: " << file.string());
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    CHECK(sse_fuzz::check_client_input(data.data(), data.size()).empty());
  }
}
