// SPDX-License-Identifier: MIT
// The end-to-end guarantee: through 200 drops at random points, every event exactly once, in order.
#include <sse/sse.hpp>

#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::test_server;

TEST_CASE("guarantee: 100,000 events through 200 random drops arrive exactly once, in order",
          "[guarantee][integration]") {
  constexpr long total = 100000;
  constexpr int drops = 200;
  std::mutex mutex;
  std::mt19937 random(20261122); // seeded: the same drop points on every run
  int drops_done = 0;

  test_server server([&](connection& c) {
    const auto last = c.req().header("Last-Event-ID");
    const long first = last ? std::stol(*last) + 1 : 0;
    long count = 0;
    std::size_t cut = 0;
    bool drop = false;
    bool abort = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      drop = drops_done < drops;
      if (drop) {
        ++drops_done;
        count = std::uniform_int_distribution<long>(0, 2 * total / drops)(random);
        cut = std::uniform_int_distribution<std::size_t>(0, 12)(random);
        abort = std::uniform_int_distribution<int>(0, 1)(random) == 1;
      }
    }
    // A dropped connection never carries the last event, so exactly drops + 1 requests are made.
    const long end = drop ? std::min(total - 1, first + count) : total;
    std::string body;
    for (long id = first; id < end; ++id) {
      body += "id: " + std::to_string(id) + "\ndata: " + std::to_string(id) + "\n\n";
    }
    if (drop && end < total) {
      // Part of the next event: the client must drop it and resume before it.
      const std::string next =
          "id: " + std::to_string(end) + "\ndata: " + std::to_string(end) + "\n\n";
      body += next.substr(0, std::min(cut, next.size() - 1));
    }
    c.send_head(200, {{"Content-Type", "text/event-stream"}});
    c.send(body);
    if (!drop) {
      c.wait_closed_by_peer(30s);
    } else if (abort) {
      c.abort();
    } else {
      c.close();
    }
  });

  std::vector<long> received;
  received.reserve(total);
  std::atomic<long> count{0};
  std::atomic<bool> out_of_order{false};
  sse::client_options options;
  options.url = server.url("/numbers");
  options.reconnect.initial_delay = 0ms;
  options.reconnect.jitter = 0;
  sse::client client(options);
  client.on_message([&](const sse::event& e) {
    const long value = std::stol(e.data);
    if (value != static_cast<long>(received.size()) || e.id != e.data) {
      out_of_order = true;
    }
    received.push_back(value); // only the loop thread touches it until the client is closed
    count.store(static_cast<long>(received.size()));
  });
  client.start();
  REQUIRE(sse_test::wait_until([&] { return count.load() == total; }, 60s));
  client.close();
  REQUIRE(client.wait_for(5s));

  CHECK_FALSE(out_of_order.load());
  CHECK(received.size() == static_cast<std::size_t>(total));
  CHECK(received.front() == 0);
  CHECK(received.back() == total - 1);
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(drops_done == drops);
  CHECK(server.requests().size() == static_cast<std::size_t>(drops) + 1);
}
