// SPDX-License-Identifier: MIT
// The REST test service through which the public SSE contract suite drives sse::client.
// Usage: sse_contract_service [--port N]   (0 picks a free port; the port is printed)
#include <sse/sse.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace {

using json = nlohmann::json;

// Posts a client's callbacks to the harness in the order they were made, numbered 1, 2, 3...,
// on a thread of its own so the client's loop thread never waits for the harness.
class callback_sender {
public:
  explicit callback_sender(const std::string& callback_url) {
    // "http://host:port/endpoints/7" -> base "http://host:port", path "/endpoints/7"
    const auto scheme_end = callback_url.find("://");
    const auto path_start =
        callback_url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    base_ = callback_url.substr(0, path_start);
    path_ = path_start == std::string::npos ? "" : callback_url.substr(path_start);
    thread_ = std::thread([this] { run(); });
  }
  callback_sender(const callback_sender&) = delete;
  callback_sender& operator=(const callback_sender&) = delete;
  ~callback_sender() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // Any thread; numbers are given in call order.
  void send(json body) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.emplace_back(++count_, body.dump());
    }
    wake_.notify_all();
  }

private:
  void run() {
    httplib::Client http(base_);
    http.set_keep_alive(true);
    while (true) {
      std::pair<int, std::string> item;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return; // stopping, and everything was sent
        }
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      const auto result = http.Post((path_ + "/" + std::to_string(item.first)).c_str(), item.second,
                                    "application/json");
      if (!result) {
        std::cerr << "callback " << item.first << " to " << base_ << path_ << " failed\n";
      }
    }
  }

  std::string base_;
  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<int, std::string>> queue_;
  int count_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// One client the harness created, with the sender of its callbacks.
struct test_client {
  std::unique_ptr<callback_sender> sender;
  std::unique_ptr<sse::client> client;
};

sse::client_options options_from(const json& body) {
  sse::client_options options;
  options.url = body.at("streamUrl").get<std::string>();
  if (body.contains("initialDelayMs") && !body["initialDelayMs"].is_null()) {
    options.reconnect.initial_delay = std::chrono::milliseconds(body["initialDelayMs"].get<long>());
    options.reconnect.jitter = 0; // the suite expects the given delay exactly
  }
  if (body.contains("readTimeoutMs") && !body["readTimeoutMs"].is_null()) {
    options.idle_timeout = std::chrono::milliseconds(body["readTimeoutMs"].get<long>());
  }
  if (body.contains("lastEventId") && body["lastEventId"].is_string()) {
    options.last_event_id = body["lastEventId"].get<std::string>();
  }
  if (body.contains("headers") && body["headers"].is_object()) {
    for (const auto& [name, value] : body["headers"].items()) {
      options.headers.emplace_back(name, value.get<std::string>());
    }
  }
  if (body.contains("method") && body["method"].is_string() &&
      !body["method"].get<std::string>().empty()) {
    options.method = body["method"].get<std::string>();
  }
  if (body.contains("body") && body["body"].is_string() &&
      !body["body"].get<std::string>().empty()) {
    options.body = body["body"].get<std::string>();
  }
  return options;
}

json event_message(const sse::event& e) {
  return {{"kind", "event"}, {"event", {{"type", e.type}, {"data", e.data}, {"id", e.id}}}};
}

} // namespace

int main(int argc, char** argv) {
  int port = 8000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: sse_contract_service [--port N]\n";
      return 2;
    }
  }

  sse::event_loop loop; // every client on one loop thread
  std::mutex clients_mutex;
  std::map<std::string, std::shared_ptr<test_client>> clients;
  std::atomic<int> next_id{0};
  httplib::Server server;

  server.Get("/", [](const httplib::Request&, httplib::Response& response) {
    const json status{
        {"name", "sse-client"},
        {"capabilities",
         {"bom", "comments", "event-type-listeners", "headers", "last-event-id", "post", "report",
          "read-timeout", "restart", "server-directed-shutdown-request"}}};
    response.set_content(status.dump(), "application/json");
  });

  server.Delete("/", [&](const httplib::Request&, httplib::Response& response) {
    response.status = 204;
    std::thread([&] { server.stop(); }).detach();
  });

  server.Post("/", [&](const httplib::Request& request, httplib::Response& response) {
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("streamUrl") || !body.contains("callbackUrl")) {
      response.status = 400;
      response.set_content("streamUrl and callbackUrl are required", "text/plain");
      return;
    }
    auto entry = std::make_shared<test_client>();
    try {
      entry->sender = std::make_unique<callback_sender>(body["callbackUrl"].get<std::string>());
      entry->client = std::make_unique<sse::client>(options_from(body), loop);
    } catch (const std::exception& e) {
      response.status = 400;
      response.set_content(e.what(), "text/plain");
      return;
    }
    callback_sender* sender = entry->sender.get();
    sse::client& client = *entry->client;
    client.on_message([sender](const sse::event& e) { sender->send(event_message(e)); });
    client.on_comment([sender](std::string_view text) {
      sender->send({{"kind", "comment"}, {"comment", std::string(text)}});
    });
    client.on_error([sender](const sse::error& e) {
      sender->send({{"kind", "error"}, {"error", e.message}});
    });
    const std::string id = std::to_string(++next_id);
    {
      std::lock_guard<std::mutex> lock(clients_mutex);
      clients[id] = entry;
    }
    client.start();
    response.status = 201;
    response.set_header("Location", "/clients/" + id);
  });

  const auto find = [&](const httplib::Request& request) {
    std::lock_guard<std::mutex> lock(clients_mutex);
    const auto found = clients.find(request.matches[1]);
    return found == clients.end() ? nullptr : found->second;
  };

  server.Post(
      R"(/clients/(\d+))", [&](const httplib::Request& request, httplib::Response& response) {
        const auto entry = find(request);
        if (!entry) {
          response.status = 404;
          return;
        }
        const json body = json::parse(request.body, nullptr, false);
        const std::string command = body.is_object() ? body.value("command", "") : "";
        if (command == "listen" && body.contains("listen") && body["listen"].contains("type")) {
          callback_sender* sender = entry->sender.get();
          entry->client->on(body["listen"]["type"].get<std::string>(),
                            [sender](const sse::event& e) { sender->send(event_message(e)); });
        } else if (command == "restart") {
          entry->client->restart();
        } else {
          response.status = 400;
          response.set_content("unknown command", "text/plain");
          return;
        }
        response.status = 204;
      });

  server.Delete(R"(/clients/(\d+))",
                [&](const httplib::Request& request, httplib::Response& response) {
                  std::shared_ptr<test_client> entry;
                  {
                    std::lock_guard<std::mutex> lock(clients_mutex);
                    const auto found = clients.find(request.matches[1]);
                    if (found == clients.end()) {
                      response.status = 404;
                      return;
                    }
                    entry = found->second;
                    clients.erase(found);
                  }
                  entry->client.reset(); // no more requests, no more callbacks
                  entry->sender.reset(); // after the callbacks already made are delivered
                  response.status = 204;
                });

  if (port == 0) {
    port = server.bind_to_any_port("127.0.0.1");
  } else if (!server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "sse_contract_service: cannot listen on 127.0.0.1\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << port << std::endl;
  const bool ok = server.listen_after_bind();
  std::lock_guard<std::mutex> lock(clients_mutex);
  clients.clear();
  return ok ? 0 : 1;
}
