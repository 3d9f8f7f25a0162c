// SPDX-License-Identifier: MIT
// Resuming across runs: the last event ID is saved to a file and sent on the next start.
// Usage: resume URL STATE_FILE [EVENTS]
#include <sse/sse.hpp>

#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: resume URL STATE_FILE [EVENTS]\n";
    return 2;
  }
  const std::string state_file = argv[2];
  const unsigned long wanted = argc > 3 ? std::stoul(argv[3]) : 5;

  sse::client_options options;
  options.url = argv[1];
  std::ifstream saved(state_file);
  std::getline(saved, options.last_event_id); // empty on the first run: no Last-Event-ID

  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  sse::client client(options, loop);
  unsigned long seen = 0;
  client.on_message([&](const sse::event& e) {
    std::cout << e.id << ": " << e.data << '\n';
    // Save after handling: a crash now resumes at this event, never after it.
    std::ofstream(state_file, std::ios::trunc) << e.id << '\n';
    if (++seen == wanted) {
      client.close();
    }
  });
  client.start();
  loop.run();
  return 0;
}
