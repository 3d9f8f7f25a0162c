// SPDX-License-Identifier: MIT
// What every way of consuming the library must give: the parser, the client, usage errors.
#include <sse/sse.hpp>

#include <cstdio>
#include <string>

int main() {
  std::string seen;
  sse::parser parser;
  parser.on_event([&](const sse::event& e) { seen = e.type + ":" + e.data + ":" + e.id; });
  parser.feed("id: 1\r\nevent: greet\r\ndata: hi\r\n\r\n");
  if (seen != "greet:hi:1") {
    std::printf("parser gave \"%s\"\n", seen.c_str());
    return 1;
  }
  sse::client_options options;
  options.url = "ftp://127.0.0.1/";
  try {
    sse::client client(options);
    std::printf("a bad URL was accepted\n");
    return 1;
  } catch (const sse::usage_error&) {
  }
  options.url = "http://127.0.0.1:1/";
  sse::client client(options); // valid; never started
#ifdef SSE_CLIENT_SEPARATE_COMPILATION
  std::printf("sse-client %d compiled mode ok\n", SSE_CLIENT_VERSION);
#else
  std::printf("sse-client %d ok\n", SSE_CLIENT_VERSION);
#endif
  return 0;
}
