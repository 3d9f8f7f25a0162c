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
    options.headers.emplace_back("Authorization", std::string("Bearer ") + token);
  }
  // One answer per request: end at [DONE], and never replay the prompt after a drop.
  options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };
  options.reconnect_on_end = false;
  options.on_failure = [](const sse::error&, sse::retry_decision) { return sse::retry_decision{}; };

  sse::client client(options);
  client.on("delta", [](const sse::event& e) {
    const auto token = nlohmann::json::parse(e.data, nullptr, false);
    if (token.is_object() && token.contains("tok")) {
      std::cout << token["tok"].get<std::string>() << std::flush;
    }
  });
  client.on_error([](const sse::error& e) { std::cerr << "\nerror: " << e.message << '\n'; });
  client.start();
  client.wait();
  std::cout << '\n';
  return client.close_reason() == sse::close_reason::terminal_event ? 0 : 1;
}
