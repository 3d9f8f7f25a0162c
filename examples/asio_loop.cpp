// SPDX-License-Identifier: MIT
// Follows a stream from a standalone asio io_context: the sse loop runs in asio's thread.
// Usage: asio_loop URL [MAX_EVENTS]
#include <sse/sse.hpp>

#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: asio_loop URL [MAX_EVENTS]\n");
    return 2;
  }
  const long max_events = argc > 2 ? std::atol(argv[2]) : 5;
  const std::thread::id host_thread = std::this_thread::get_id(); // io.run() runs here
  const auto where = [host_thread] {
    return std::this_thread::get_id() == host_thread ? "host thread" : "OTHER THREAD";
  };

  asio::io_context io;
  sse::event_loop loop(sse::event_loop::mode::external);
  // asio watches the loop's descriptor; the loop keeps owning it (release() below).
  asio::posix::stream_descriptor watch(io, loop.descriptor());
  asio::steady_timer timer(io);
  bool done = false;

  // One round of the sse loop, then asio's timer is set to when the next one is due.
  std::function<void()> drive = [&] {
    loop.process();
    if (done) {
      watch.cancel();
      timer.cancel();
      return; // nothing left for io.run() to wait for: it returns
    }
    const std::optional<std::chrono::milliseconds> next = loop.next_timeout();
    if (!next) {
      timer.cancel();
      return;
    }
    timer.expires_after(*next);
    timer.async_wait([&](const asio::error_code& ec) {
      if (!ec) {
        drive();
      }
    });
  };
  // asio's reactor is edge-triggered: arm the next wait before process() consumes readiness.
  std::function<void()> wait_readable = [&] {
    watch.async_wait(asio::posix::stream_descriptor::wait_read, [&](const asio::error_code& ec) {
      if (!ec && !done) {
        wait_readable();
        drive();
      }
    });
  };

  long seen = 0;
  sse::client_options options;
  options.url = argv[1];
  sse::client client(options, loop);
  client.on_open([&](const sse::response_info& info) {
    std::printf("open %ld [%s]\n", info.status, where());
  });
  client.on_message([&](const sse::event& e) {
    std::printf("event %s: %s [%s]\n", e.id.c_str(), e.data.c_str(), where());
    std::fflush(stdout);
    if (++seen == max_events) {
      client.close();
    }
  });
  client.on_close([&](sse::close_reason) {
    std::printf("closed [%s]\n", where());
    done = true;
  });
  client.start();

  wait_readable();
  asio::post(io, drive); // the first round: start() has posted work
  io.run();
  (void)watch.release(); // the loop closes its descriptor itself
  return seen == max_events ? 0 : 1;
}
