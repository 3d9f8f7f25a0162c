// SPDX-License-Identifier: MIT
// An LLM-style stream: POST a prompt with a bearer token, print tokens until [DONE].
// Usage: LLM_TOKEN=secret llm_stream URL "prompt"
#include <sse/sse.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: llm_stream URL [PROMPT]\n";
    return 2;
  }
  sse::client_options options;
  options.url = argv[1];
  options.method = "POST";
  options.body = nlohmann::json{{"prompt", argc > 2 ? argv[2] : "hello"}}.dump();
  options.headers = {{"Content-Type", "application/json"}};
  if (const char* token = std::getenv("LLM_TOKEN")) {
    options.auth.bearer_token = token; // sent to this host only, never after a redirect away
  }
  // One answer per request: retried only while the server has not taken the prompt (connect
  // failure, 5xx, 429), never replayed once the answer started; ends at [DONE].
  options.one_shot = true;
  options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };

  sse::client client(options);
  client.on("delta", [](const sse::event& e) {
    const auto token = nlohmann::json::parse(e.data, nullptr, false);
    if (token.is_object() && token.contains("tok")) {
      std::cout << token["tok"].get<std::string>() << std::flush;
    }
  });
  client.on_error([](const sse::error& e) {
    // A 401 or 400 says why in its body (the first 4 KiB are kept).
    std::cerr << "\nerror: " << e.message << (e.body.empty() ? "" : ": " + e.body) << '\n';
  });
  client.start();
  client.wait();
  std::cout << '\n';
  // terminal_event: [DONE] came; server_ended: the answer ended without it; truncated: cut.
  return client.close_reason() == sse::close_reason::terminal_event ? 0 : 1;
}
