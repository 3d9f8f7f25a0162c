// SPDX-License-Identifier: MIT
// sse::client against cpp-httplib, an HTTP server written by others: chunked and fixed-length
// bodies, Last-Event-ID on reconnect, a POST with a JSON body, 204 and a wrong Content-Type.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::wait_until;

namespace {

// A cpp-httplib server on 127.0.0.1 and a port of the system's choosing, on a thread of its own.
class httplib_server {
public:
  httplib_server() = default;
  httplib_server(const httplib_server&) = delete;
  httplib_server& operator=(const httplib_server&) = delete;
  ~httplib_server() {
    server.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  // Call after the routes are set.
  void start() {
    port_ = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server.listen_after_bind(); });
    REQUIRE(wait_until([this] { return server.is_running(); }, 5s));
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  httplib::Server server;

private:
  int port_ = 0;
  std::thread thread_;
};

std::string tick(int id) {
  return "id: " + std::to_string(id) + "\ndata: tick " + std::to_string(id) + "\n\n";
}

} // namespace

TEST_CASE("httplib server: chunked bodies, resumed with Last-Event-ID after each end",
          "[client][integration][httplib]") {
  httplib_server http;
  recorder<std::string> last_ids; // the Last-Event-ID of each request ("" when none)
  recorder<std::string> accepts;
  http.server.Get("/ticks", [&](const httplib::Request& request, httplib::Response& response) {
    const std::string last = request.get_header_value("Last-Event-ID");
    last_ids.push(last);
    accepts.push(request.get_header_value("Accept"));
    const int from = last.empty() ? 0 : std::stoi(last);
    response.set_header("Cache-Control", "no-cache");
    // Four events in two writes (one cuts an event in half), then the body ends.
    response.set_chunked_content_provider("text/event-stream",
                                          [from](std::size_t, httplib::DataSink& sink) {
                                            std::string body;
                                            for (int id = from + 1; id <= from + 4; ++id) {
                                              body += tick(id);
                                            }
                                            const std::size_t half = body.size() / 2 + 3;
                                            sink.write(body.data(), half);
                                            sink.write(body.data() + half, body.size() - half);
                                            sink.done();
                                            return true;
                                          });
  });
  http.start();

  collected c;
  sse::client client(fast_options(http.url("/ticks")));
  c.attach(client);
  client.on_message([&](const sse::event& e) {
    if (e.id == "12") {
      client.close();
    }
  });
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::closed);
  const auto events = c.events.snapshot();
  REQUIRE(events.size() == 12);
  for (int i = 0; i < 12; ++i) {
    CHECK(events[static_cast<std::size_t>(i)] ==
          sse::event{"message", "tick " + std::to_string(i + 1), std::to_string(i + 1)});
  }
  CHECK(last_ids.snapshot() == std::vector<std::string>{"", "4", "8"});
  CHECK(accepts.snapshot() ==
        std::vector<std::string>{"text/event-stream", "text/event-stream", "text/event-stream"});
  // Each end of the body is one error (will_retry) before the reconnect.
  for (const auto& e : c.errors.snapshot()) {
    CHECK(e.code == sse::errc::network);
    CHECK(e.will_retry);
  }
  CHECK(c.errors.size() == 2);
}

TEST_CASE("httplib server: a POST with a JSON body, streamed back until [DONE]",
          "[client][integration][httplib]") {
  httplib_server http;
  std::mutex mutex;
  std::string content_type;
  http.server.Post("/v1/chat", [&](const httplib::Request& request, httplib::Response& response) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      content_type = request.get_header_value("Content-Type");
    }
    const auto prompt = nlohmann::json::parse(request.body).at("prompt").get<std::string>();
    std::istringstream words(prompt);
    std::string body;
    for (std::string word; words >> word;) {
      body += "data: " + nlohmann::json{{"token", word}}.dump() + "\n\n";
    }
    body += "data: [DONE]\n\n";
    response.set_chunked_content_provider("text/event-stream; charset=utf-8",
                                          [body](std::size_t, httplib::DataSink& sink) {
                                            // One token per chunk, as a model produces them.
                                            for (std::size_t at = 0; at < body.size();) {
                                              const std::size_t end = body.find("\n\n", at) + 2;
                                              sink.write(body.data() + at, end - at);
                                              at = end;
                                            }
                                            sink.done();
                                            return true;
                                          });
  });
  http.start();

  auto options = fast_options(http.url("/v1/chat"));
  options.method = "POST";
  options.headers.push_back({"Content-Type", "application/json"});
  options.body = nlohmann::json{{"prompt", "the quick brown fox"}}.dump();
  options.reconnect_on_end = false;
  options.is_terminal = [](const sse::event& e) { return e.data == "[DONE]"; };
  collected c;
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(c.closes.wait_for_size(1, 5s));
  CHECK(c.closes.snapshot()[0] == sse::close_reason::terminal_event);
  std::vector<std::string> tokens;
  for (const auto& e : c.events.snapshot()) {
    if (e.data != "[DONE]") {
      tokens.push_back(nlohmann::json::parse(e.data).at("token").get<std::string>());
    }
  }
  CHECK(tokens == std::vector<std::string>{"the", "quick", "brown", "fox"});
  CHECK(c.events.size() == 5);
  CHECK(c.errors.size() == 0);
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(content_type == "application/json");
}

TEST_CASE("httplib server: a fixed-length body, a 204 and a wrong Content-Type",
          "[client][integration][httplib]") {
  httplib_server http;
  recorder<std::string> paths;
  http.server.Get("/fixed", [&](const httplib::Request& request, httplib::Response& response) {
    paths.push(request.path);
    response.set_content(tick(1) + tick(2) + ": a comment\n\n", "text/event-stream");
  });
  http.server.Get("/gone", [&](const httplib::Request& request, httplib::Response& response) {
    paths.push(request.path);
    response.status = 204;
  });
  http.server.Get("/page", [&](const httplib::Request& request, httplib::Response& response) {
    paths.push(request.path);
    response.set_content("<html></html>", "text/html");
  });
  http.start();

  SECTION("Content-Length: the events, then a clean end") {
    auto options = fast_options(http.url("/fixed"));
    options.reconnect_on_end = false;
    collected c;
    sse::client client(options);
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::server_ended);
    CHECK(c.events.snapshot() ==
          std::vector<sse::event>{{"message", "tick 1", "1"}, {"message", "tick 2", "2"}});
  }
  SECTION("204: ended for good, never retried") {
    collected c;
    sse::client client(fast_options(http.url("/gone")));
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::no_content);
    CHECK(c.errors.size() == 0);
    CHECK(paths.snapshot() == std::vector<std::string>{"/gone"});
  }
  SECTION("text/html: failed for good, never retried") {
    collected c;
    sse::client client(fast_options(http.url("/page")));
    c.attach(client);
    client.start();
    REQUIRE(c.closes.wait_for_size(1, 5s));
    CHECK(c.closes.snapshot()[0] == sse::close_reason::failed);
    const auto errors = c.errors.snapshot();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code == sse::errc::content_type);
    CHECK(errors[0].http_status == 200);
    CHECK_FALSE(errors[0].will_retry);
    CHECK(errors[0].body == "<html></html>");
    CHECK(paths.snapshot() == std::vector<std::string>{"/page"});
  }
}
