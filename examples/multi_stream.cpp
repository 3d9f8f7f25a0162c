// SPDX-License-Identifier: MIT
// Many streams on one event loop thread; prints how many events each received.
// Usage: multi_stream URL [STREAMS] [EVENTS_EACH]
#include <sse/sse.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: multi_stream URL [STREAMS] [EVENTS_EACH]\n";
    return 2;
  }
  const int streams = argc > 2 ? std::atoi(argv[2]) : 50;
  const int events_each = argc > 3 ? std::atoi(argv[3]) : 5;
  std::atomic<int> done{0};
  sse::event_loop loop; // one thread for all of them
  std::vector<std::unique_ptr<sse::client>> clients;
  for (int i = 0; i < streams; ++i) {
    sse::client_options options;
    options.url = argv[1];
    auto client = std::make_unique<sse::client>(options, loop);
    sse::client* self = client.get();
    client->on_message([self, events_each, &done](const sse::event&) {
      if (self->stats().events == static_cast<std::uint64_t>(events_each)) {
        self->close();
        ++done;
      }
    });
    client->start();
    clients.push_back(std::move(client));
  }
  for (auto& client : clients) {
    client->wait_for(std::chrono::seconds(30));
  }
  std::cout << done << " of " << streams << " streams received " << events_each
            << " events each on one loop thread\n";
  return done == streams ? 0 : 1;
}
