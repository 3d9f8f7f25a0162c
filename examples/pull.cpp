// SPDX-License-Identifier: MIT
// Reads a stream by pulling, with no callback: range-for over sse::event_stream, whose bounded
// queue pauses the transfer while this program falls behind. Ctrl-C (SIGINT) or SIGTERM closes
// the stream cleanly; the last event taken is printed, to resume from.
// Usage: pull URL
#include <sse/sse.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

namespace {

// A signal handler may only do async-signal-safe things: it writes to a pipe, and a normal
// thread reading the pipe calls close() (which takes a lock).
int self_pipe[2] = {-1, -1};

extern "C" void on_signal(int) {
  const int saved = errno;
  const char byte = 1;
  (void)!write(self_pipe[1], &byte, 1);
  errno = saved;
}

void install_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pull URL\n");
    return 2;
  }
  if (pipe(self_pipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  install_handlers();

  sse::client_options options;
  options.url = argv[1];
  sse::event_stream stream(options); // at most 1024 events or 8 MiB wait for this program

  // Closes the stream on a signal: a next() waiting in the loop below returns `ended` at once.
  // A byte 0 from main() lets it go when the stream ended by itself.
  std::thread watcher([&stream] {
    char byte = 0;
    while (read(self_pipe[0], &byte, 1) < 0 && errno == EINTR) {
      // interrupted before a byte came: read again
    }
    if (byte == 1) {
      stream.close();
    }
  });

  for (const sse::event& e : stream) { // waits for each event; ends when the stream does
    std::printf("event %s: %s\n", e.id.c_str(), e.data.c_str());
    std::fflush(stdout);
  }

  const char byte = 0;
  (void)!write(self_pipe[1], &byte, 1);
  watcher.join();
  const sse::close_reason reason = stream.close_reason();
  std::printf("ended (%.*s); last event id: %s\n", static_cast<int>(to_string(reason).size()),
              to_string(reason).data(), stream.last_event_id().c_str());
  if (const auto error = stream.error()) {
    std::fprintf(stderr, "error: %s\n", error->message.c_str());
  }
  return reason == sse::close_reason::closed || reason == sse::close_reason::no_content ? 0 : 1;
}
