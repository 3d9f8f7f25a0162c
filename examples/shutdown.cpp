// SPDX-License-Identifier: MIT
// Ctrl-C (SIGINT) or SIGTERM ends a stream cleanly: the last event ID is known and printed.
// Usage: shutdown URL                  a background loop: the main thread waits on a self-pipe
//        shutdown --caller-thread URL  the loop runs on the main thread: the handler stops it
#include <sse/sse.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// A signal handler may only do async-signal-safe things: write() to a pipe, store a lock-free
// atomic, and sse::event_loop::stop(). Everything else happens on a normal thread.
int self_pipe[2] = {-1, -1};
std::atomic<bool> interrupted{false};
std::atomic<sse::event_loop*> running_loop{nullptr};

extern "C" void on_signal(int) {
  interrupted.store(true);
  if (sse::event_loop* loop = running_loop.load()) {
    loop->stop(); // caller-thread mode: run() returns
  }
  const int saved = errno;
  const char byte = 1;
  (void)!write(self_pipe[1], &byte, 1); // background mode: main() wakes
  errno = saved;
}

void install_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void print_events(sse::client& client) {
  client.on_message([](const sse::event& e) {
    std::printf("event %s: %s\n", e.id.c_str(), e.data.c_str());
    std::fflush(stdout);
  });
}

// The loop has a thread of its own: the main thread sleeps in read() until a signal, or the
// stream's end, writes to the pipe; then closes the client, which returns at once.
int background(const std::string& url) {
  sse::client_options options;
  options.url = url;
  sse::client client(options);
  print_events(client);
  client.on_close([](sse::close_reason) {
    const char byte = 0;
    (void)!write(self_pipe[1], &byte, 1); // the stream ended by itself
  });
  client.start();
  char byte = 0;
  while (read(self_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    // a signal interrupted read() itself; its byte is in the pipe now
  }
  client.close();
  client.wait(); // on_close has run: nothing more arrives
  std::printf("%s; last event id: %s\n", interrupted ? "interrupted" : "ended",
              client.last_event_id().c_str());
  return 0;
}

// The loop runs on this thread: the handler stops it, then close() and one more run() let the
// stream end (on_close runs) before the program does.
int caller_thread(const std::string& url) {
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  sse::client_options options;
  options.url = url;
  sse::client client(options, loop);
  print_events(client);
  client.start();
  running_loop.store(&loop);
  loop.run(); // until the stream ends or a signal stops it
  running_loop.store(nullptr);
  client.close();
  loop.run(); // returns once the stream has ended
  std::printf("%s; last event id: %s\n", interrupted ? "interrupted" : "ended",
              client.last_event_id().c_str());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const bool on_caller_thread = argc == 3 && std::strcmp(argv[1], "--caller-thread") == 0;
  if (argc != 2 && !on_caller_thread) {
    std::fprintf(stderr, "usage: shutdown [--caller-thread] URL\n");
    return 2;
  }
  if (pipe(self_pipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  install_handlers();
  return on_caller_thread ? caller_thread(argv[2]) : background(argv[1]);
}
