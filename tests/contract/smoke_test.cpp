// SPDX-License-Identifier: MIT
// Starts sse_contract_service and drives one create / listen / restart / delete cycle against a
// local SSE server, playing the harness: the callbacks must come numbered, in order, exact.
#include <sse/sse.hpp>

#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using json = nlohmann::json;
using sse_test::connection;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

// The service as a child process on a free port.
class service_process {
public:
  service_process() {
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string path = SSE_CONTRACT_SERVICE_PATH;
    std::string port_flag = "--port";
    std::string zero = "0";
    char* argv[] = {path.data(), port_flag.data(), zero.data(), nullptr};
    REQUIRE(posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buffer[256];
        const ssize_t n = read(out[0], buffer, sizeof buffer);
        if (n <= 0) {
          break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
      }
    }
    close(out[0]);
    const std::string prefix = "listening on ";
    REQUIRE(text.rfind(prefix, 0) == 0);
    url = text.substr(prefix.size(), text.find('\n') - prefix.size());
  }
  service_process(const service_process&) = delete;
  service_process& operator=(const service_process&) = delete;
  ~service_process() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string url;

private:
  pid_t pid_ = -1;
};

struct reply {
  long status = 0;
  std::string location;
  std::string body;
};

// One blocking HTTP request with libcurl (the harness's side of the protocol).
reply http(const std::string& method, const std::string& url, const std::string& body = {}) {
  reply r;
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
  if (!body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(
      h, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(
      h, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        const std::string line(data, size * n);
        if (line.rfind("Location:", 0) == 0 || line.rfind("location:", 0) == 0) {
          *static_cast<std::string*>(out) = line.substr(9, line.find_last_not_of("\r\n") - 8);
          auto& s = *static_cast<std::string*>(out);
          s.erase(0, s.find_first_not_of(' '));
        }
        return size * n;
      });
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.location);
  if (curl_easy_perform(h) == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return r;
}

} // namespace

TEST_CASE("contract service: create, listen, restart, delete", "[contract][integration]") {
  // The harness's callback endpoint: bodies by callback number.
  std::mutex mutex;
  std::map<int, json> callbacks;
  test_server harness([&](connection& c) {
    const auto& target = c.req().target; // /callbacks/N
    const int n = std::stoi(target.substr(target.rfind('/') + 1));
    {
      std::lock_guard<std::mutex> lock(mutex);
      callbacks[n] = json::parse(c.req().body, nullptr, false);
    }
    c.send_head(202, {{"Content-Length", "0"}});
    c.close();
  });
  const auto callback = [&](int n) {
    std::lock_guard<std::mutex> lock(mutex);
    return callbacks.count(n) != 0 ? callbacks[n] : json();
  };
  const auto callback_count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return callbacks.size();
  };

  std::atomic<bool> listening{false};
  std::atomic<int> connections{0};
  test_server stream([&](connection& c) {
    c.send_head(200, {{"Content-Type", "text/event-stream"}});
    if (++connections == 1) {
      c.send(":hi\nid: 1\ndata: first\n\n");
      for (int i = 0; i < 500 && !listening && c.sleep_for(10ms); ++i) {
      }
      c.send("event: greeting\nid: 2\ndata: hello\n\n");
    } else {
      c.send("data: after restart\n\n");
    }
    c.wait_closed_by_peer(10s);
  });

  service_process service;
  const reply status = http("GET", service.url + "/");
  REQUIRE(status.status == 200);
  const json capabilities = json::parse(status.body)["capabilities"];
  for (const char* capability :
       {"bom", "comments", "event-type-listeners", "headers", "last-event-id", "post", "report",
        "read-timeout", "restart", "server-directed-shutdown-request"}) {
    CHECK(std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end());
  }

  const json create{{"streamUrl", stream.url("/stream")},
                    {"callbackUrl", harness.url("/callbacks")},
                    {"tag", "smoke"},
                    {"initialDelayMs", 0},
                    {"readTimeoutMs", nullptr}};
  const reply created = http("POST", service.url + "/", create.dump());
  REQUIRE(created.status == 201);
  REQUIRE_FALSE(created.location.empty());
  const std::string resource =
      created.location.rfind("http", 0) == 0 ? created.location : service.url + created.location;

  REQUIRE(wait_until([&] { return callback_count() >= 2; }, 5s));
  CHECK(callback(1) == json{{"kind", "comment"}, {"comment", "hi"}});
  CHECK(callback(2) ==
        json{{"kind", "event"}, {"event", {{"type", "message"}, {"data", "first"}, {"id", "1"}}}});

  REQUIRE(http("POST", resource, R"({"command":"listen","listen":{"type":"greeting"}})").status /
              100 ==
          2);
  listening = true;
  REQUIRE(wait_until([&] { return callback_count() >= 3; }, 5s));
  CHECK(callback(3) ==
        json{{"kind", "event"}, {"event", {{"type", "greeting"}, {"data", "hello"}, {"id", "2"}}}});

  REQUIRE(http("POST", resource, R"({"command":"restart"})").status / 100 == 2);
  REQUIRE(wait_until([&] { return callback_count() >= 4; }, 5s));
  CHECK(callback(4) ==
        json{{"kind", "event"},
             {"event", {{"type", "message"}, {"data", "after restart"}, {"id", "2"}}}});
  CHECK(stream.requests().at(1).header("Last-Event-ID") == std::optional<std::string>("2"));

  CHECK(http("POST", resource, R"({"command":"fly"})").status == 400);
  CHECK(http("DELETE", resource).status / 100 == 2);
  CHECK(http("DELETE", resource).status == 404);
  CHECK(http("POST", service.url + "/", "{}").status == 400);
  CHECK(callback_count() == 4); // numbered without gaps, nothing after the delete
}
