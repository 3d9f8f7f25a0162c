// SPDX-License-Identifier: MIT
// A chat client's pattern: N one-shot POST streams, one after another, to one https host (a local
// nginx answering each with two events and the end), on one event_loop with the default options.
// Connections and TLS handshakes as nginx logs them, and the time from start() to the first event
// for requests 2..N, beside the curl binary making the same N requests in one invocation.
#include <sse/client.hpp>

#include "support/nginx.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr const char* body = R"({"model":"m","prompt":"hello","stream":true})";

// What nginx logged for a run: one line a request (see nginx_proxy::once_log).
struct server_view {
  std::size_t requests = 0;
  std::size_t connections = 0; // distinct $connection values
  std::size_t handshakes = 0;  // TLS handshakes: one a connection...
  std::size_t resumed = 0;     // ... of which abbreviated, a session resumed
  std::string protocols;       // the $server_protocol values seen
};

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// nginx writes a request's line once it has sent the answer, which the client may have read
// before: wait (up to 2 s) for `expected` lines past `from_line`.
server_view server_side(const std::string& log, std::size_t from_line, std::size_t expected) {
  std::vector<std::string> lines = read_lines(log);
  const auto deadline = clock_type::now() + std::chrono::seconds(2);
  while (lines.size() < from_line + expected && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lines = read_lines(log);
  }
  server_view v;
  std::set<std::string> connections;
  std::set<std::string> protocols;
  for (std::size_t i = from_line; i < lines.size(); ++i) {
    std::istringstream fields(lines[i]);
    std::string connection;
    std::string on_connection;
    std::string reused;
    std::string protocol;
    fields >> connection >> on_connection >> reused >> protocol;
    ++v.requests;
    protocols.insert(protocol);
    // A handshake per connection, counted at its first request; "r": a resumed session.
    if (connections.insert(connection).second) {
      v.handshakes += 1;
      v.resumed += reused == "r" ? 1U : 0U;
    }
  }
  v.connections = connections.size();
  for (const auto& p : protocols) {
    v.protocols += (v.protocols.empty() ? "" : ",") + p;
  }
  return v;
}

struct timings {
  std::vector<double> first_event_ms; // requests 2..N
  std::size_t failed = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[at];
}

// `on_caller`: the loop runs on this thread (`run()` until the stream has ended) instead of a
// thread of its own, so start() hands nothing over to another thread.
timings run_client(const std::string& url, const std::string& ca_file, std::size_t n,
                   bool on_caller) {
  sse::event_loop loop(on_caller ? sse::event_loop::mode::caller_thread
                                 : sse::event_loop::mode::background_thread);
  timings t;
  for (std::size_t i = 0; i < n; ++i) {
    sse::client_options options; // the defaults, plus what a chat request needs
    options.url = url;
    options.tls.ca_file = ca_file;
    options.one_shot = true;
    options.method = "POST";
    options.body = body;
    options.headers.emplace_back("Content-Type", "application/json");
    sse::client c(options, loop);
    std::mutex m;
    std::condition_variable cv;
    bool first = false;
    clock_type::time_point first_at{};
    c.on_message([&](const sse::event&) {
      std::lock_guard<std::mutex> lock(m);
      if (!first) {
        first = true;
        first_at = clock_type::now();
        cv.notify_all();
      }
    });
    const auto start = clock_type::now();
    c.start();
    if (on_caller) {
      loop.run();
    }
    bool got = false;
    {
      std::unique_lock<std::mutex> lock(m);
      got = cv.wait_for(lock, std::chrono::seconds(10), [&] { return first; });
    }
    // The answer ends by itself: the stream closes once the body is complete.
    const bool ended = c.wait_for(std::chrono::seconds(10));
    if (!got || !ended || c.close_reason() != sse::close_reason::server_ended) {
      ++t.failed;
    } else if (i > 0) {
      t.first_event_ms.push_back(
          std::chrono::duration<double, std::milli>(first_at - start).count());
    }
  }
  return t;
}

// The curl binary, one invocation for all N: it keeps its connection between the URLs. The
// per-request time is curl's time_starttransfer (from the transfer's start to its first byte).
timings run_curl(const std::string& url, const std::string& ca_file, bool http1, std::size_t n) {
  std::string command = "curl -sS --cacert " + ca_file + (http1 ? " --http1.1" : "") +
                        " -H 'Content-Type: application/json' -H 'Accept: text/event-stream'"
                        " -d '" +
                        body + "' -w '%{stderr}%{time_starttransfer} %{http_code}\\n'";
  for (std::size_t i = 0; i < n; ++i) {
    command += " " + url;
  }
  command += " 2>&1 >/dev/null";
  timings t;
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) {
    t.failed = n;
    return t;
  }
  char line[256];
  std::size_t i = 0;
  while (std::fgets(line, sizeof line, out) != nullptr) {
    double seconds = 0;
    int status = 0;
    if (std::sscanf(line, "%lf %d", &seconds, &status) != 2 || status != 200) {
      ++t.failed;
    } else if (i++ > 0) {
      t.first_event_ms.push_back(seconds * 1e3);
    }
  }
  ::pclose(out);
  t.failed += n - std::min(n, i + t.failed);
  return t;
}

// libcurl's easy interface, one handle for all N (so one connection), in this process: timed as
// the client is, from the call that starts a request to the first body byte (the first event).
struct easy_reference {
  clock_type::time_point first_at{};
  bool first = false;
  static std::size_t write(char*, std::size_t size, std::size_t count, void* self) {
    auto* r = static_cast<easy_reference*>(self);
    if (!r->first) {
      r->first = true;
      r->first_at = clock_type::now();
    }
    return size * count;
  }
};

// The options both in-process references set: what the client sends, and nothing more.
curl_slist* reference_headers() {
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  return curl_slist_append(headers, "Accept: text/event-stream");
}

void set_reference_options(CURL* h, const std::string& url, const std::string& ca_file, bool http1,
                           curl_slist* headers, easy_reference& r) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   http1 ? static_cast<long>(CURL_HTTP_VERSION_1_1)
                         : static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &easy_reference::write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
}

void record(timings& t, std::size_t i, bool ok, clock_type::time_point start,
            clock_type::time_point first_at) {
  if (!ok) {
    ++t.failed;
  } else if (i > 0) {
    t.first_event_ms.push_back(std::chrono::duration<double, std::milli>(first_at - start).count());
  }
}

timings run_easy(const std::string& url, const std::string& ca_file, bool http1, std::size_t n) {
  timings t;
  CURL* h = curl_easy_init();
  curl_slist* headers = reference_headers();
  easy_reference r;
  set_reference_options(h, url, ca_file, http1, headers, r);
  for (std::size_t i = 0; i < n; ++i) {
    r.first = false;
    const auto start = clock_type::now();
    const CURLcode result = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    record(t, i, result == CURLE_OK && status == 200 && r.first, start, r.first_at);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return t;
}

// libcurl's multi interface on this thread, a new easy handle per request (as the client makes
// one per attempt), timed from before the handle is made to the first body byte: the client's
// use of libcurl without its loop thread and bookkeeping.
timings run_multi(const std::string& url, const std::string& ca_file, bool http1, std::size_t n) {
  timings t;
  CURLM* multi = curl_multi_init();
  curl_slist* headers = reference_headers();
  for (std::size_t i = 0; i < n; ++i) {
    easy_reference r;
    const auto start = clock_type::now();
    CURL* h = curl_easy_init();
    set_reference_options(h, url, ca_file, http1, headers, r);
    curl_multi_add_handle(multi, h);
    CURLcode result = CURLE_OPERATION_TIMEDOUT;
    bool done = false;
    const auto deadline = start + std::chrono::seconds(10);
    while (!done && clock_type::now() < deadline) {
      int running = 0;
      curl_multi_perform(multi, &running);
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == h) {
          result = message->data.result;
          done = true;
        }
      }
      if (!done) {
        curl_multi_poll(multi, nullptr, 0, 100, nullptr);
      }
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    record(t, i, result == CURLE_OK && status == 200 && r.first, start, r.first_at);
    curl_multi_remove_handle(multi, h);
    curl_easy_cleanup(h);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return t;
}

void print_row(const char* protocol, const char* who, std::size_t run, const server_view& v,
               const timings& t) {
  std::printf("  %-8s %-10s %3zu %6zu %11zu %10zu %7zu  %-9s %8.3f %8.3f%s\n", protocol, who, run,
              v.requests, v.connections, v.handshakes, v.resumed, v.protocols.c_str(),
              percentile(t.first_event_ms, 0.5), percentile(t.first_event_ms, 0.9),
              t.failed == 0 ? "" : (" (" + std::to_string(t.failed) + " failed)").c_str());
}

double lowest(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
double highest(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

} // namespace

int main(int argc, char** argv) {
  std::size_t n = 50;
  std::size_t runs = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::strtoul(argv[++i], nullptr, 10);
    } else if (!arg.empty() && arg.front() != '-') {
      n = std::strtoul(argv[i], nullptr, 10);
    } else {
      runs = 0;
      break;
    }
  }
  if (n < 2 || runs == 0) {
    std::fprintf(stderr, "usage: reuse_bench [N >= 2] [--runs R]\n");
    return 2;
  }
  try {
    // /once is answered by nginx itself: the backend port is never used.
    sse_test::nginx_proxy nginx(9);
    const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
    std::printf("reuse_bench: %zu sequential one-shot POST streams to a local nginx over TLS, %zu "
                "runs; libcurl %s\n",
                n, runs, curl->version);
    std::printf("  sse-client: one event_loop, a client per request, the default options plus "
                "one_shot, POST and a JSON body; time from start() to the first event\n"
                "  curl: the curl binary, the %zu URLs in one invocation (one connection); its "
                "time_starttransfer\n"
                "  easy: libcurl's easy interface, one handle reused, in this process; time from "
                "curl_easy_perform() to the first body byte\n"
                "  multi: libcurl's multi interface on this thread, a new easy handle per request "
                "(as the client makes); time from making the handle to the first body byte\n"
                "  sse-caller: sse-client with its event_loop on the caller's thread "
                "(mode::caller_thread, run() after start()), so no hand-over between threads\n"
                "  connections, handshakes (resumed: abbreviated) as nginx logs them; times for "
                "requests 2..%zu in ms\n",
                n, n);
    std::printf("  %-8s %-10s %3s %6s %11s %10s %7s  %-9s %8s %8s\n", "protocol", "client", "run",
                "logged", "connections", "handshakes", "resumed", "as", "median", "p90");
    struct target {
      const char* name;
      std::string url;
      bool http1;
    };
    const target targets[] = {{"HTTP/1.1", nginx.https_http1_url("/once"), true},
                              {"HTTP/2", nginx.https_url("/once"), false}};
    constexpr std::size_t kinds = 5;
    const char* names[kinds] = {"sse-client", "curl", "easy", "multi", "sse-caller"};
    for (const target& x : targets) {
      std::vector<double> medians[kinds];
      std::vector<double> ratios[kinds]; // sse-client's median over each one's, run by run
      std::size_t most_connections[kinds] = {};
      std::size_t most_handshakes[kinds] = {};
      for (std::size_t run = 1; run <= runs; ++run) {
        double run_median[kinds] = {};
        for (std::size_t who = 0; who < kinds; ++who) {
          const std::size_t from = read_lines(nginx.once_log()).size();
          const timings t = who == 0   ? run_client(x.url, nginx.ca_file(), n, false)
                            : who == 1 ? run_curl(x.url, nginx.ca_file(), x.http1, n)
                            : who == 2 ? run_easy(x.url, nginx.ca_file(), x.http1, n)
                            : who == 3 ? run_multi(x.url, nginx.ca_file(), x.http1, n)
                                       : run_client(x.url, nginx.ca_file(), n, true);
          const server_view v = server_side(nginx.once_log(), from, n);
          print_row(x.name, names[who], run, v, t);
          run_median[who] = percentile(t.first_event_ms, 0.5);
          medians[who].push_back(run_median[who]);
          most_connections[who] = std::max(most_connections[who], v.connections);
          most_handshakes[who] = std::max(most_handshakes[who], v.handshakes);
        }
        for (std::size_t who = 0; who < kinds; ++who) {
          ratios[who].push_back(run_median[0] / std::max(1e-9, run_median[who]));
        }
      }
      std::printf("  %s, medians of %zu runs (at most C connections / H handshakes a run):\n",
                  x.name, runs);
      for (std::size_t who = 0; who < kinds; ++who) {
        std::printf("    %-10s %.3f ms (%zu / %zu)", names[who], percentile(medians[who], 0.5),
                    most_connections[who], most_handshakes[who]);
        if (who != 0) {
          std::printf("; sse-client / %s: %.2f x (runs %.2f to %.2f)", names[who],
                      percentile(ratios[who], 0.5), lowest(ratios[who]), highest(ratios[who]));
        }
        std::printf("\n");
      }
    }
  } catch (const std::exception& e) {
    std::printf("reuse_bench: could not run: %s\n", e.what());
    return 1;
  }
  return 0;
}
