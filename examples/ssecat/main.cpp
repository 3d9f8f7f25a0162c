// SPDX-License-Identifier: MIT
// ssecat: follow a server-sent event stream and print its events ("curl -N for SSE").
#include <sse/sse.hpp>

#include "cli.hpp"
#include <nlohmann/json.hpp>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#else
#include <pthread.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// The library's option names, as the command line spells them.
std::string as_option(std::string message) {
  static const std::pair<const char*, const char*> names[] = {
      {"options.url", "URL"},
      {"options.method", "--method"},
      {"options.headers", "--header"},
      {"options.last_event_id", "--last-event-id"},
      {"options.idle_timeout", "--idle-timeout"},
      {"options.connect_timeout", "--connect-timeout"},
      {"options.reconnect.initial_delay", "--retry"},
  };
  for (const auto& [from, to] : names) {
    if (message.rfind(from, 0) == 0) {
      return to + message.substr(std::string(from).size());
    }
  }
  return message;
}

// False when the output cannot take the text (a closed pipe, a full disk): errno says why.
bool write_all(const std::string& text) {
  const bool written = std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  return std::fflush(stdout) == 0 && written; // a pipe to jq sees each event at once
}

std::string format_event(const sse::event& e, bool json, bool colour) {
  if (json) {
    const nlohmann::ordered_json object{{"type", e.type}, {"data", e.data}, {"id", e.id}};
    return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string text;
  if (e.type != "message") {
    text += colour ? "\033[36m" + e.type + "\033[0m " : e.type + " ";
  }
  // The later lines of multi-line data are indented, as folded header lines are: one event of
  // two lines cannot be taken for two events, and a line still holds one event when data has
  // one line.
  std::size_t start = 0;
  for (std::size_t end; (end = e.data.find('\n', start)) != std::string::npos; start = end + 1) {
    text.append(e.data, start, end + 1 - start);
    text += "  ";
  }
  text.append(e.data, start, std::string::npos);
  text += '\n';
  return text;
}

// -v's last lines: what an operator would graph for this stream.
void print_stats(const sse::client_stats& s) {
  std::fprintf(stderr,
               "* stats: %llu events, %llu bytes, %llu attempts, %llu opens, %llu reconnects, "
               "connected %.3f s, disconnected %.3f s\n",
               static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.bytes),
               static_cast<unsigned long long>(s.attempts),
               static_cast<unsigned long long>(s.opens),
               static_cast<unsigned long long>(s.reconnects),
               std::chrono::duration<double>(s.connected).count(),
               std::chrono::duration<double>(s.disconnected).count());
  if (s.failures == 0) {
    return;
  }
  std::string kinds;
  for (std::size_t i = 1; i < s.failures_by_code.size(); ++i) {
    if (s.failures_by_code[i] != 0) {
      kinds += (kinds.empty() ? "" : ", ") +
               std::string(sse::to_string(static_cast<sse::errc>(i))) + " " +
               std::to_string(s.failures_by_code[i]);
    }
  }
  std::fprintf(stderr, "* stats: %llu failures (%s); last: %s\n",
               static_cast<unsigned long long>(s.failures), kinds.c_str(),
               s.last_error ? s.last_error->message.c_str() : "");
}

#ifdef _WIN32
// Console control events stand for the signals: Ctrl-C and Ctrl-Break for SIGINT, closing the
// console window, logging off and shutting down for SIGTERM. The system calls the handler on a
// thread of its own; the handler hands the signal number to the watcher thread in main().
struct console_events {
  std::mutex mutex;
  std::condition_variable changed;
  int signal = 0;    // the first event's signal number
  int count = 0;     // events so far
  bool done = false; // the loop has returned
};

console_events& events() {
  static console_events e;
  return e;
}

BOOL WINAPI on_console_event(DWORD type) {
  int signal = 0;
  switch (type) {
  case CTRL_C_EVENT:
  case CTRL_BREAK_EVENT:
    signal = SIGINT;
    break;
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    signal = SIGTERM;
    break;
  default:
    return FALSE;
  }
  console_events& e = events();
  std::unique_lock<std::mutex> lock(e.mutex);
  if (e.count++ == 0) {
    e.signal = signal;
  }
  e.changed.notify_all();
  if (signal == SIGTERM) {
    // The system ends the process once this returns: give the stream its second to end.
    e.changed.wait_for(lock, std::chrono::seconds(2), [&] { return e.done; });
  }
  return TRUE;
}

// A console that takes ANSI colour codes (GetConsoleMode fails for files, pipes and NUL).
bool colour_console() {
  const HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode = 0;
  return GetConsoleMode(out, &mode) != 0 &&
         SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}
#endif

#ifndef _WIN32
// The first signal's number, for the exit status when a second one ends ssecat.
volatile std::sig_atomic_t first_signal = 0;

void exit_on_second_signal(int) {
  std::_Exit(128 + first_signal); // async-signal-safe
}
#endif

} // namespace

int main(int argc, char** argv) {
  ssecat::settings settings;
  try {
    settings = ssecat::parse(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const ssecat::usage_error& e) {
    std::cerr << "ssecat: " << e.what() << "\n(ssecat --help lists the options)\n";
    return 2;
  }
  if (settings.help) {
    std::cout << ssecat::usage_text;
    return 0;
  }
  if (settings.version) {
    std::cout << "ssecat " << SSE_CLIENT_VERSION_MAJOR << '.' << SSE_CLIENT_VERSION_MINOR << '.'
              << SSE_CLIENT_VERSION_PATCH << " (" << curl_version() << ")\n";
    return 0;
  }

#ifdef _WIN32
  // The same bytes as on Linux: LF line ends, not CRLF.
  _setmode(_fileno(stdout), _O_BINARY);
  // Ctrl-C reaches the handler even when the parent started ssecat in a process group of its own
  // (which ignores Ctrl-C by default).
  SetConsoleCtrlHandler(nullptr, FALSE);
  SetConsoleCtrlHandler(on_console_event, TRUE);
#else
  // A write to a closed pipe (`ssecat URL | head -1`) fails with EPIPE, which ends ssecat with
  // status 1 and a message, instead of killing it.
  std::signal(SIGPIPE, SIG_IGN);

  // SIGINT and SIGTERM go to a watcher thread (blocked everywhere else, including in libcurl's
  // threads), which closes the stream: a signal handler may not call into the library.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1); // our own "exit now" for the watcher
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
#endif

  const bool verbose = settings.verbose;
  if (settings.until || settings.until_event) {
    settings.client.is_terminal = [until = settings.until,
                                   until_event = settings.until_event](const sse::event& e) {
      return (until && e.data == *until) || (until_event && e.type == *until_event);
    };
  }
  if (verbose) {
    settings.client.before_attempt = [](sse::attempt_request& r) {
      std::cerr << "> " << r.method << ' ' << r.url << " (attempt " << r.attempt
                << (r.last_event_id.empty() ? "" : ", Last-Event-ID: " + r.last_event_id) << ")\n";
    };
    settings.client.on_response = [](const sse::response_info& r) {
      // As curl -v shows a status line: "< HTTP/2 200".
      std::cerr << "< " << (r.http_version.empty() ? "HTTP/?" : r.http_version) << ' ' << r.status
                << ' ' << r.header_value("Content-Type").value_or("(no type)") << " from " << r.url
                << '\n';
    };
  }

  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  std::unique_ptr<sse::client> client;
  try {
    client = std::make_unique<sse::client>(settings.client, loop);
  } catch (const sse::usage_error& e) {
    std::cerr << "ssecat: " << as_option(e.what()) << "\n(ssecat --help lists the options)\n";
    return 2;
  }

  // What the event listener reads and writes, in one place: the listener holds only its address,
  // which std::function keeps without an allocation, so an event costs two loads to reach it.
  struct listener_state {
    std::uint64_t left = UINT64_MAX; // events until the limit; no limit is one never reached
    bool quiet = false;
    bool json = false;
    bool colour = false;
    bool finished_by_count = false;
    int write_error = 0; // errno of a failed write to stdout, which ends the stream
    sse::client* client = nullptr;
  };
  listener_state state;
  state.left = settings.max_events.value_or(UINT64_MAX);
  state.quiet = settings.quiet;
  state.json = settings.json;
#ifdef _WIN32
  state.colour = !settings.json && colour_console();
#else
  state.colour = !settings.json && isatty(STDOUT_FILENO) != 0;
#endif
  state.client = client.get();
  const std::uint64_t max_events = state.left;
  const bool quiet = state.quiet;
  client->on_any([&state](const sse::event& e) {
    if (!state.quiet && !write_all(format_event(e, state.json, state.colour))) {
      state.write_error = errno;
      state.client->close();
      return;
    }
    if (--state.left == 0) {
      state.finished_by_count = true;
      state.client->close();
    }
  });
  client->on_error([&](const sse::error& e) {
    if (verbose) {
      // One line: what failed, how many failures in a row that makes, and what happens next.
      std::cerr << "! " << e.message << "; failure " << e.attempt << " in a row; ";
      if (e.will_retry) {
        std::cerr << "reconnecting in " << e.retry_delay.count() << " ms\n";
      } else {
        std::cerr << "not retrying\n";
      }
    } else if (!e.will_retry && e.code != sse::errc::listener) {
      std::cerr << "ssecat: " << e.message << '\n';
    }
  });
  client->on_close([&](sse::close_reason reason) {
    if (verbose) {
      std::cerr << "* closed: " << sse::to_string(reason) << '\n';
    }
  });

  // The first SIGINT or SIGTERM closes the stream and lets ssecat end as usual. A second one, or
  // a second passing without the end (the loop's thread is stuck writing to a pipe nobody
  // reads), ends the process at once.
  std::atomic<int> interrupted{0};
#ifdef _WIN32
  std::thread watcher([&] {
    console_events& e = events();
    std::unique_lock<std::mutex> lock(e.mutex);
    e.changed.wait(lock, [&] { return e.count > 0 || e.done; });
    if (e.count == 0) {
      return;
    }
    const int signal = e.signal;
    const int seen = e.count;
    interrupted = signal;
    lock.unlock();
    client->close();
    lock.lock();
    e.changed.wait_for(lock, std::chrono::seconds(1), [&] { return e.done || e.count > seen; });
    if (!e.done) {
      // Not std::_Exit: ExitProcess unloads the C runtime's DLL, which flushes stdout, and that
      // blocks on the very pipe that keeps the loop's thread from ending.
      TerminateProcess(GetCurrentProcess(), static_cast<UINT>(128 + signal));
    }
  });
#else
  // The grace after the first signal: a second SIGINT or SIGTERM, or a second passing without the
  // end, exits at once. (sigtimedwait would do, but macOS has none: a handler, unblocked in the
  // watcher alone, takes the second signal while the watcher waits for the end.)
  std::mutex end_mutex;
  std::condition_variable end_changed;
  bool ended = false;
  std::thread watcher([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGUSR1) {
      return;
    }
    interrupted = signal;
    first_signal = signal;
    client->close();
    struct sigaction exit_now {};
    exit_now.sa_handler = exit_on_second_signal;
    sigemptyset(&exit_now.sa_mask);
    sigaction(SIGINT, &exit_now, nullptr);
    sigaction(SIGTERM, &exit_now, nullptr);
    sigset_t second;
    sigemptyset(&second);
    sigaddset(&second, SIGINT);
    sigaddset(&second, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &second, nullptr);
    std::unique_lock<std::mutex> lock(end_mutex);
    if (!end_changed.wait_for(lock, std::chrono::seconds(1), [&] { return ended; })) {
      std::_Exit(128 + signal);
    }
  });
#endif

  const auto started = clock_type::now();
  client->start();
  loop.run();
#ifdef _WIN32
  {
    console_events& e = events();
    std::lock_guard<std::mutex> lock(e.mutex);
    e.done = true;
    e.changed.notify_all();
  }
#else
  {
    std::lock_guard<std::mutex> lock(end_mutex);
    ended = true;
  }
  end_changed.notify_all();
  pthread_kill(watcher.native_handle(), SIGUSR1); // a watcher still in sigwait; else ignored
#endif
  watcher.join();
  if (settings.cookie_jar_file) {
    try {
      settings.client.cookies->save(*settings.cookie_jar_file); // the client's copy shares it
    } catch (const std::exception& e) {
      std::cerr << "ssecat: --cookie-jar: " << e.what() << '\n';
    }
  }

  if (quiet) {
    const std::uint64_t events = max_events - state.left;
    const auto stats = client->stats();
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    std::fprintf(
        stderr, "ssecat: %llu events, %llu bytes, %llu reconnects, %.3f s, %.0f events/s\n",
        static_cast<unsigned long long>(events), static_cast<unsigned long long>(stats.bytes),
        static_cast<unsigned long long>(stats.attempts > 0 ? stats.attempts - 1 : 0), seconds,
        seconds > 0 ? static_cast<double>(events) / seconds : 0.0);
  }
  if (verbose) {
    print_stats(client->stats());
  }
  if (interrupted != 0) {
    return 128 + interrupted;
  }
  if (state.write_error != 0) {
    std::cerr << "ssecat: cannot write the output: " << std::strerror(state.write_error) << '\n';
    return 1;
  }
  switch (client->close_reason()) {
  case sse::close_reason::closed:
    return state.finished_by_count ? 0 : 1;
  case sse::close_reason::no_content:
  case sse::close_reason::terminal_event:
  case sse::close_reason::server_ended:
    return 0;
  default:
    return 1;
  }
}
