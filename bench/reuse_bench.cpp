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

server_view server_side(const std::string& log, std::size_t from_line) {
  const std::vector<std::string> lines = read_lines(log);
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

timings run_client(const std::string& url, const std::string& ca_file, std::size_t n) {
  sse::event_loop loop;
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

void print_row(const char* protocol, const char* who, std::size_t n, const server_view& v,
               const timings& t) {
  std::printf("  %-8s %-10s %8zu %6zu %11zu %10zu %7zu  %-9s %10.3f %10.3f%s\n", protocol, who, n,
              v.requests, v.connections, v.handshakes, v.resumed, v.protocols.c_str(),
              percentile(t.first_event_ms, 0.5), percentile(t.first_event_ms, 0.9),
              t.failed == 0 ? "" : (" (" + std::to_string(t.failed) + " failed)").c_str());
}

} // namespace

int main(int argc, char** argv) {
  std::size_t n = 50;
  if (argc > 1) {
    n = std::strtoul(argv[1], nullptr, 10);
  }
  if (n < 2) {
    std::fprintf(stderr, "usage: reuse_bench [N >= 2]\n");
    return 2;
  }
  try {
    // /once is answered by nginx itself: the backend port is never used.
    sse_test::nginx_proxy nginx(9);
    const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
    std::printf("reuse_bench: %zu sequential one-shot POST streams on one event_loop (default "
                "options) to a local nginx over TLS, beside the curl binary making the same %zu "
                "requests in one invocation; libcurl %s\n",
                n, n, curl->version);
    std::printf("  connections and handshakes as nginx logs them; time to first event for "
                "requests 2..%zu in ms (curl: time_starttransfer)\n",
                n);
    std::printf("  %-8s %-10s %8s %6s %11s %10s %7s  %-9s %10s %10s\n", "protocol", "client",
                "requests", "logged", "connections", "handshakes", "resumed", "as", "median",
                "p90");
    struct target {
      const char* name;
      std::string url;
      bool http1;
    };
    const target targets[] = {{"HTTP/1.1", nginx.https_http1_url("/once"), true},
                              {"HTTP/2", nginx.https_url("/once"), false}};
    for (const target& x : targets) {
      std::size_t from = read_lines(nginx.once_log()).size();
      const timings ours = run_client(x.url, nginx.ca_file(), n);
      print_row(x.name, "sse-client", n, server_side(nginx.once_log(), from), ours);
      from = read_lines(nginx.once_log()).size();
      const timings theirs = run_curl(x.url, nginx.ca_file(), x.http1, n);
      print_row(x.name, "curl", n, server_side(nginx.once_log(), from), theirs);
      std::printf("  %-8s sse-client median / curl median: %.2f x\n", x.name,
                  percentile(ours.first_event_ms, 0.5) /
                      std::max(1e-9, percentile(theirs.first_event_ms, 0.5)));
    }
  } catch (const std::exception& e) {
    std::printf("reuse_bench: could not run: %s\n", e.what());
    return 1;
  }
  return 0;
}
