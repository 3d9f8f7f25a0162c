// SPDX-License-Identifier: MIT
// Follows a stream from a libuv loop: the sse loop runs in libuv's thread.
// Usage: uv_loop URL [MAX_EVENTS]
#include <sse/sse.hpp>

#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

namespace {

struct host {
  uv_loop_t* uv = nullptr;
  uv_poll_t watch{};
  uv_timer_t timer{};
  sse::event_loop loop{sse::event_loop::mode::external};
  bool done = false;
};

void drive(host& h);

void on_readable(uv_poll_t* handle, int status, int /*events*/) {
  if (status >= 0) {
    drive(*static_cast<host*>(handle->data));
  }
}

void on_timer(uv_timer_t* handle) {
  drive(*static_cast<host*>(handle->data));
}

// One round of the sse loop, then libuv's timer is set to when the next one is due.
void drive(host& h) {
  h.loop.process();
  if (h.done) {
    // Closing both handles leaves uv_run nothing to wait for: it returns.
    uv_close(reinterpret_cast<uv_handle_t*>(&h.watch), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&h.timer), nullptr);
    return;
  }
  const std::optional<std::chrono::milliseconds> next = h.loop.next_timeout();
  if (next) {
    uv_update_time(h.uv); // libuv counts from its cached time
    uv_timer_start(&h.timer, on_timer, static_cast<std::uint64_t>(next->count()), 0);
  } else {
    uv_timer_stop(&h.timer);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: uv_loop URL [MAX_EVENTS]\n");
    return 2;
  }
  const long max_events = argc > 2 ? std::atol(argv[2]) : 5;
  const std::thread::id host_thread = std::this_thread::get_id(); // uv_run runs here
  const auto where = [host_thread] {
    return std::this_thread::get_id() == host_thread ? "host thread" : "OTHER THREAD";
  };

  host h;
  h.uv = uv_default_loop();
  // libuv polls the loop's descriptor (level-triggered); the loop keeps owning it.
  uv_poll_init(h.uv, &h.watch, h.loop.descriptor());
  uv_timer_init(h.uv, &h.timer);
  h.watch.data = &h;
  h.timer.data = &h;

  long seen = 0;
  sse::client_options options;
  options.url = argv[1];
  sse::client client(options, h.loop);
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
    h.done = true;
  });
  client.start();

  uv_poll_start(&h.watch, UV_READABLE, on_readable);
  uv_timer_start(&h.timer, on_timer, 0, 0); // the first round: start() has posted work
  uv_run(h.uv, UV_RUN_DEFAULT);
  uv_loop_close(h.uv);
  return seen == max_events ? 0 : 1;
}
