// SPDX-License-Identifier: MIT
// A demo SSE server on 127.0.0.1: a ticking feed that resumes, a flaky one, and an LLM-style chat.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// The event after the one the client last saw, from its Last-Event-ID.
long first_id(const httplib::Request& request) {
  const std::string last = request.get_header_value("Last-Event-ID");
  if (last.empty() || last.find_first_not_of("0123456789") != std::string::npos ||
      last.size() > 15) {
    return 1;
  }
  return std::stol(last) + 1;
}

std::string tick(long id) {
  return "id: " + std::to_string(id) + "\ndata: tick " + std::to_string(id) + "\n\n";
}

// Streams ticks every `interval`; with `drop_after`, ends the body after that many events so
// the client has to reconnect (and resume from Last-Event-ID).
void serve_ticks(const httplib::Request& request, httplib::Response& response,
                 std::chrono::milliseconds interval, int drop_after) {
  const long start = first_id(request);
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream", [start, interval, drop_after](std::size_t, httplib::DataSink& sink) {
        // Tell the client how long to wait before reconnecting, then tick.
        std::string head = "retry: 500\n: stream starts at id " + std::to_string(start) + "\n\n";
        if (!sink.write(head.data(), head.size())) {
          return false;
        }
        for (long id = start; drop_after == 0 || id < start + drop_after; ++id) {
          const std::string event = tick(id);
          if (!sink.write(event.data(), event.size())) {
            return false;
          }
          std::this_thread::sleep_for(interval);
        }
        sink.done(); // a clean end of body: EventSource clients reconnect
        return true;
      });
}

std::vector<std::string> answer_tokens(const std::string& prompt) {
  std::string text = "You said \"" + prompt +
                     "\". Server-sent events carry each token as soon as it exists, so the "
                     "answer appears while it is being written.";
  std::vector<std::string> tokens;
  std::string word;
  for (const char c : text) {
    word += c;
    if (c == ' ') {
      tokens.push_back(word);
      word.clear();
    }
  }
  if (!word.empty()) {
    tokens.push_back(word);
  }
  return tokens;
}

} // namespace

int main(int argc, char** argv) {
  int port = 8080;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: demo_server [--port N]   (0 picks a free port)\n";
      return 2;
    }
  }

  httplib::Server server;
  server.Get("/events", [](const httplib::Request& request, httplib::Response& response) {
    serve_ticks(request, response, std::chrono::milliseconds(300), 0);
  });
  server.Get("/flaky", [](const httplib::Request& request, httplib::Response& response) {
    serve_ticks(request, response, std::chrono::milliseconds(100), 5);
  });
  server.Post("/chat", [](const httplib::Request& request, httplib::Response& response) {
    std::string prompt = "hello";
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_object() && body.contains("prompt") && body["prompt"].is_string()) {
      prompt = body["prompt"].get<std::string>();
    }
    auto tokens = answer_tokens(prompt);
    response.set_chunked_content_provider(
        "text/event-stream", [tokens](std::size_t, httplib::DataSink& sink) {
          for (const auto& token : tokens) {
            const std::string event =
                "event: delta\ndata: " + nlohmann::json{{"tok", token}}.dump() + "\n\n";
            if (!sink.write(event.data(), event.size())) {
              return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(40));
          }
          const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
          return true;
        });
  });

  if (port == 0) {
    port = server.bind_to_any_port("127.0.0.1");
  } else if (!server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "demo_server: cannot listen on 127.0.0.1\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << port << std::endl;
  return server.listen_after_bind() ? 0 : 1;
}
