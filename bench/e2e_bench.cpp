// SPDX-License-Identifier: MIT
// End-to-end throughput over loopback: sse::client against curl -N and a raw socket reader.
#include <sse/client.hpp>

#include "bench_server.hpp"
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start, clock_type::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

// CPU time of the calling thread: the client's loop runs on it (caller_thread mode).
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Seconds of CPU time the hypervisor gave to other guests ("steal" in /proc/stat), summed over
// this machine's cores; 0 on bare metal. On a virtual machine it is what makes the same run take
// twice as long a few seconds later.
double steal_seconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) {
    return 0;
  }
  unsigned long long v[8] = {};
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                              &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  return got == 8 ? static_cast<double>(v[7]) / static_cast<double>(::sysconf(_SC_CLK_TCK)) : 0;
}

// The share of the machine's cores stolen between two steal_seconds() readings `wall` apart.
double stolen_share(double steal_start, double steal_end, double wall) {
  const double cores = static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN));
  return wall > 0 ? (steal_end - steal_start) / (wall * cores) : 0;
}

// A run's wall time, the CPU time its reader spent (user + system), and the share of the
// machine stolen by the hypervisor meanwhile.
struct timing {
  double wall = -1.0;
  double cpu = -1.0;
  double stolen = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct corpus {
  std::string name;
  std::string bytes;
  std::size_t events = 0;
};

// `count` events of 64 KiB of data each, sent as 1 KiB data lines (as parser_bench's).
corpus large_corpus(std::size_t count) {
  std::string line = "data: ";
  for (int i = 0; line.size() < 1023; ++i) {
    line += static_cast<char>('a' + i % 26);
  }
  line += '\n';
  corpus c;
  c.name = std::to_string(count) + " x 64 KiB events";
  c.events = count;
  c.bytes.reserve(count * (65 * 1024));
  for (std::size_t e = 0; e < count; ++e) {
    c.bytes += "id: " + std::to_string(e) + "\n";
    for (int l = 0; l < 64; ++l) {
      c.bytes += line;
    }
    c.bytes += '\n';
  }
  return c;
}

// `count` events of 60 bytes each: an id line and a JSON token, padded to 60 bytes.
corpus small_corpus(std::size_t count) {
  corpus c;
  c.name = std::to_string(count) + " x 60-byte events";
  c.events = count;
  c.bytes.reserve(count * 60);
  for (std::size_t e = 0; e < count; ++e) {
    std::string ev = "id: " + std::to_string(e) + "\ndata: {\"tok\":\"";
    const std::size_t tail = 4; // "\"}\n\n"
    ev.append(60 - ev.size() - tail, 'x');
    ev += "\"}\n\n";
    c.bytes += ev;
  }
  return c;
}

// Our client on a caller_thread loop; a counting listener closes the client at the last event.
timing run_client(const std::string& url, std::size_t events, std::size_t& data_bytes) {
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  sse::client_options options;
  options.url = url;
  options.reconnect_on_end = false;
  sse::client client(options, loop);
  std::size_t seen = 0;
  std::size_t bytes = 0;
  clock_type::time_point last{};
  client.on_message([&](const sse::event& e) {
    ++seen;
    bytes += e.data.size();
    if (seen == events) {
      last = clock_type::now();
      client.close();
    }
  });
  const double steal_start = steal_seconds();
  const auto start = clock_type::now();
  const double cpu_start = thread_cpu_seconds();
  client.start();
  loop.run();
  const double cpu = thread_cpu_seconds() - cpu_start;
  const double wall = seconds_since(start, last);
  data_bytes = bytes;
  if (seen != events) {
    std::fprintf(stderr, "client: got %zu of %zu events\n", seen, events);
    return {};
  }
  return {wall, cpu, stolen_share(steal_start, steal_seconds(), wall)};
}

// A command as a process with stdout and stderr to /dev/null, timed from spawn to exit.
timing run_command(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const double steal_start = steal_seconds();
  const auto start = clock_type::now();
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    std::fprintf(stderr, "%s: cannot spawn\n", argv[0]);
    return {};
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  const auto end = clock_type::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s: exit status %d\n", argv[0], status);
  }
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  const double wall = seconds_since(start, end);
  return {wall, seconds(usage.ru_utime) + seconds(usage.ru_stime),
          stolen_share(steal_start, steal_seconds(), wall)};
}

// `curl -N -s URL -o /dev/null`: libcurl's own ceiling on the same server.
timing run_curl(const std::string& url) {
  return run_command({"curl", "-N", "-s", url, "-o", "/dev/null"});
}

// `ssecat -q --max-events N URL`: our CLI, which must end at the N-th event.
timing run_ssecat(const std::string& ssecat, const std::string& url, std::size_t events) {
  return run_command({ssecat, "-q", "--max-events", std::to_string(events), url});
}

// The ceiling: one blocking socket, recv() into 1 MiB until the server closes.
double run_raw(std::uint16_t port, std::size_t expected_bytes) {
  const auto start = clock_type::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1.0;
  }
  sse_bench::write_all(fd, "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Accept: text/event-stream\r\n\r\n");
  std::vector<char> buffer(1 << 20);
  std::size_t total = 0;
  while (true) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      break;
    }
    total += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const auto end = clock_type::now();
  if (total < expected_bytes) {
    std::fprintf(stderr, "raw: got %zu of %zu bytes\n", total, expected_bytes);
  }
  return seconds_since(start, end);
}

// The bytes the no-I/O runs below feed, in libcurl's default 16 KiB chunks. In cache: the
// corpus' first events up to 256 KiB (the client's receive buffer), fed again and again up to the
// corpus' size, since a client's bytes are in cache when libcurl hands them over, just after
// recv() wrote them. From memory: the whole corpus once (over 100 MB, read from memory).
struct chunked_input {
  std::string_view window;
  std::size_t passes = 1;
  std::size_t events = 0; // in all passes
  // A time measured over this input, scaled to the corpus' own event count.
  double scaled(double seconds, std::size_t corpus_events) const {
    return events == 0 ? seconds
                       : seconds * static_cast<double>(corpus_events) / static_cast<double>(events);
  }
};

chunked_input input_of(const corpus& c, bool in_cache) {
  constexpr std::size_t window = 256 * 1024;
  chunked_input in;
  in.window = c.bytes;
  in.events = c.events;
  if (in_cache && c.bytes.size() > window) {
    // Every event of these corpora ends with the only "\n\n" in it.
    in.window = in.window.substr(0, c.bytes.rfind("\n\n", window - 2) + 2);
    std::size_t window_events = 0;
    for (std::size_t at = in.window.find("\n\n"); at != std::string_view::npos;
         at = in.window.find("\n\n", at + 2)) {
      ++window_events;
    }
    in.passes = (c.bytes.size() + in.window.size() - 1) / in.window.size();
    in.events = window_events * in.passes;
  }
  return in;
}

constexpr std::size_t chunk_size = 16 * 1024;

// The parser alone, calling a counting listener: the floor for parsing.
double run_parser_only(const corpus& c, bool in_cache) {
  const chunked_input in = input_of(c, in_cache);
  sse::parser parser;
  std::size_t seen = 0;
  parser.on_event([&seen](const sse::event&) { ++seen; });
  const auto start = clock_type::now();
  for (std::size_t pass = 0; pass < in.passes; ++pass) {
    for (std::size_t at = 0; at < in.window.size(); at += chunk_size) {
      parser.feed(in.window.substr(at, chunk_size));
    }
  }
  const auto end = clock_type::now();
  if (seen != in.events) {
    std::fprintf(stderr, "parser: got %zu of %zu events\n", seen, in.events);
  }
  return in.scaled(seconds_since(start, end), c.events);
}

// The least a parser could do with the same bytes: split them at LF and tell blank, data and id
// lines apart, copying nothing, calling nothing and checking nothing (no CR, no UTF-8, no
// limits). A client on libcurl does at least this and what curl's process does, in one thread.
std::uint64_t lf_mask(const char* p) noexcept {
#if !defined(__SSE2__)
  std::uint64_t mask = 0;
  for (int k = 0; k < 64; ++k) {
    mask |= static_cast<std::uint64_t>(p[k] == '\n') << k;
  }
  return mask;
#else
  const __m128i lf = _mm_set1_epi8('\n');
  const auto bits = [&](int at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    return static_cast<std::uint64_t>(
        static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf))));
  };
  return bits(0) | bits(16) << 16 | bits(32) << 32 | bits(48) << 48;
#endif
}

struct split_counts {
  std::size_t events = 0;
  std::size_t field_bytes = 0;
  void line(std::string_view line) {
    if (line.empty()) {
      ++events;
    } else if (line.compare(0, 5, "data:") == 0 || line.compare(0, 3, "id:") == 0) {
      field_bytes += line.size();
    }
  }
};

// Lines of `chunk` from `start` up to its last 64 bytes; returns where the next line begins.
std::size_t split_blocks(std::string_view chunk, std::size_t start, split_counts& counts) {
  std::size_t block = start;
  std::uint64_t mask = 0;
  for (;;) {
    while (mask == 0) {
      if (chunk.size() - block < 64) {
        return start;
      }
      mask = lf_mask(chunk.data() + block);
      block += 64;
    }
    const std::size_t end = block - 64 + static_cast<unsigned>(__builtin_ctzll(mask));
    mask &= mask - 1;
    counts.line(chunk.substr(start, end - start));
    start = end + 1;
  }
}

// The splitter over the corpus' bytes in cache, in place: only a line cut by a chunk boundary is
// copied.
double run_split_floor(const corpus& c) {
  const chunked_input in = input_of(c, true);
  split_counts counts;
  std::string cut;
  const auto split_chunk = [&](std::string_view v) {
    std::size_t pos = 0;
    if (!cut.empty()) {
      const auto* lf = static_cast<const char*>(std::memchr(v.data(), '\n', v.size()));
      if (lf == nullptr) {
        cut.append(v);
        return;
      }
      pos = static_cast<std::size_t>(lf - v.data());
      cut.append(v.substr(0, pos));
      counts.line(cut);
      cut.clear();
      ++pos;
    }
    pos = split_blocks(v, pos, counts);
    while (const void* hit = std::memchr(v.data() + pos, '\n', v.size() - pos)) {
      const auto end = static_cast<std::size_t>(static_cast<const char*>(hit) - v.data());
      counts.line(v.substr(pos, end - pos));
      pos = end + 1;
    }
    cut.assign(v.substr(pos));
  };
  const auto start = clock_type::now();
  for (std::size_t pass = 0; pass < in.passes; ++pass) {
    for (std::size_t at = 0; at < in.window.size(); at += chunk_size) {
      split_chunk(in.window.substr(at, chunk_size));
    }
  }
  const auto end = clock_type::now();
  if (counts.events != in.events) {
    std::fprintf(stderr, "split: got %zu of %zu events\n", counts.events, in.events);
  }
  return in.scaled(seconds_since(start, end), c.events);
}

// Wall and CPU medians of a series of runs.
struct series {
  std::vector<double> wall;
  std::vector<double> cpu;
  std::vector<double> stolen;
  void add(const timing& t) {
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
    stolen.push_back(t.stolen);
  }
  double median_wall() const { return median(wall); }
  double median_cpu() const { return median(cpu); }
};

// Below this share of the machine stolen during both runs of a pair, the pair is counted as a
// quiet one.
constexpr double quiet_steal = 0.10;

// Time ratios of `ours` to `theirs` rep by rep (lowest, median, highest), of their fastest runs,
// and the median over the quiet pairs, where the hypervisor took little of the machine.
void print_paired(const char* label, const series& ours, const series& theirs) {
  std::vector<double> ratios;
  std::vector<double> quiet;
  double best_ours = 0;
  double best_theirs = 0;
  for (std::size_t r = 0; r < ours.wall.size() && r < theirs.wall.size(); ++r) {
    const double a = ours.wall[r];
    const double b = theirs.wall[r];
    if (a <= 0 || b <= 0) {
      continue; // a failed run (reported above)
    }
    ratios.push_back(a / b);
    if (ours.stolen[r] < quiet_steal && theirs.stolen[r] < quiet_steal) {
      quiet.push_back(a / b);
    }
    best_ours = best_ours == 0 ? a : std::min(best_ours, a);
    best_theirs = best_theirs == 0 ? b : std::min(best_theirs, b);
  }
  if (ratios.empty()) {
    return;
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("  %s: time per rep %.2fx lowest, %.2fx median, %.2fx highest; fastest runs "
              "%.3f s against %.3f s, %.2fx\n",
              label, ratios.front(), median(ratios), ratios.back(), best_ours, best_theirs,
              best_ours / best_theirs);
  if (quiet.empty()) {
    std::printf("  %s: no rep had both runs under %.0f%% stolen\n", label, 100 * quiet_steal);
  } else {
    std::sort(quiet.begin(), quiet.end());
    std::printf("  %s: %zu reps with both runs under %.0f%% stolen: time %.2fx lowest, %.2fx "
                "median, %.2fx highest\n",
                label, quiet.size(), 100 * quiet_steal, quiet.front(), median(quiet), quiet.back());
  }
}

void measure(const corpus& c, int reps, bool with_raw, bool client_only,
             const std::string& ssecat) {
  // The server's thread times its own writing, to show what limits curl: when it is busy for all
  // of curl's run, curl's time is how fast the kernel's loopback takes the bytes.
  std::mutex writing_mutex;
  timing writing;
  sse_bench::stream_server server([&](int fd) {
    const auto start = clock_type::now();
    const double cpu_start = thread_cpu_seconds();
    sse_bench::write_corpus(fd, c.bytes);
    const std::lock_guard<std::mutex> lock(writing_mutex);
    writing.cpu = thread_cpu_seconds() - cpu_start;
    writing.wall = seconds_since(start, clock_type::now());
  });
  const auto last_writing = [&] {
    const std::lock_guard<std::mutex> lock(writing_mutex);
    return writing;
  };
  std::size_t data_bytes = 0;
  if (client_only) {
    series ours;
    for (int r = 0; r < reps; ++r) {
      ours.add(run_client(server.url(), c.events, data_bytes));
    }
    const double t = ours.median_wall();
    std::printf("%s: sse::client %.3f s (CPU %.3f s), %.1f MB/s (median of %d)\n", c.name.c_str(),
                t, ours.median_cpu(), static_cast<double>(c.bytes.size()) / 1e6 / t, reps);
    return;
  }
  series ours;
  series curls;
  series ssecats;
  series servers; // the server's writing, in each curl run
  std::vector<double> raws;
  std::vector<double> splits;
  for (int r = 0; r < reps; ++r) {
    ours.add(run_client(server.url(), c.events, data_bytes));
    curls.add(run_curl(server.url()));
    servers.add(last_writing());
    splits.push_back(run_split_floor(c));
    std::printf("  rep %d: client %.3f s (CPU %.3f, stolen %.0f%%), curl %.3f s (CPU %.3f, "
                "stolen %.0f%%)",
                r + 1, ours.wall.back(), ours.cpu.back(), 100 * ours.stolen.back(),
                curls.wall.back(), curls.cpu.back(), 100 * curls.stolen.back());
    if (!ssecat.empty()) {
      ssecats.add(run_ssecat(ssecat, server.url(), c.events));
      std::printf(", ssecat %.3f s (CPU %.3f, stolen %.0f%%)", ssecats.wall.back(),
                  ssecats.cpu.back(), 100 * ssecats.stolen.back());
    }
    if (with_raw) {
      raws.push_back(run_raw(server.port(), c.bytes.size()));
      std::printf(", raw socket %.3f s", raws.back());
    }
    std::printf(", line split %.3f s\n", splits.back());
  }
  const double mb = static_cast<double>(c.bytes.size()) / 1e6;
  const double events = static_cast<double>(c.events);
  const double t_ours = ours.median_wall();
  const double t_curl = curls.median_wall();
  std::printf("%s (%.1f MB on the wire), median of %d:\n", c.name.c_str(), mb, reps);
  std::printf("  sse::client : %8.3f s  %8.1f MB/s  %12.0f events/s  CPU %.3f s (loop thread)\n",
              t_ours, mb / t_ours, events / t_ours, ours.median_cpu());
  std::printf("  curl -N     : %8.3f s  %8.1f MB/s  %12.0f events/s  CPU %.3f s (process spawn "
              "included)\n",
              t_curl, mb / t_curl, events / t_curl, curls.median_cpu());
  if (!ssecat.empty()) {
    const double t_cat = ssecats.median_wall();
    std::printf("  ssecat -q   : %8.3f s  %8.1f MB/s  %12.0f events/s  CPU %.3f s (process spawn "
                "included)\n",
                t_cat, mb / t_cat, events / t_cat, ssecats.median_cpu());
  }
  std::printf("  server      : %8.3f s writing to curl, busy %.3f s of it (CPU of its thread; "
              "sending on loopback is the kernel's copy and TCP)\n",
              servers.median_wall(), servers.median_cpu());
  if (with_raw) {
    const double t_raw = median(raws);
    std::printf("  raw socket  : %8.3f s  %8.1f MB/s\n", t_raw, mb / t_raw);
  }
  std::vector<double> parses;
  std::vector<double> parses_from_memory;
  for (int r = 0; r < reps; ++r) {
    parses.push_back(run_parser_only(c, true));
    parses_from_memory.push_back(run_parser_only(c, false));
  }
  const double t_parse = median(parses);
  std::printf("  parser alone: %8.3f s  %8.1f MB/s  %12.0f events/s (no I/O, 16 KiB chunks, in "
              "cache)\n",
              t_parse, mb / t_parse, events / t_parse);
  const double t_parse_memory = median(parses_from_memory);
  std::printf("  parser, RAM : %8.3f s  %8.1f MB/s  %12.0f events/s (the whole %.0f MB read from "
              "memory)\n",
              t_parse_memory, mb / t_parse_memory, events / t_parse_memory, mb);
  const double t_split = median(splits);
  std::printf("  line split  : %8.3f s  %8.1f MB/s  %12.0f events/s (no I/O, 16 KiB chunks, in "
              "cache; LF only, nothing copied or called)\n",
              t_split, mb / t_split, events / t_split);
  // A client whose only work was the split could not end before curl does, nor before its one
  // thread had done curl's work (curl's CPU) and the split's.
  std::vector<double> floors;
  for (std::size_t r = 0; r < splits.size() && r < curls.wall.size(); ++r) {
    if (curls.wall[r] > 0) {
      floors.push_back(std::max(curls.wall[r], curls.cpu[r] + splits[r]) / curls.wall[r]);
    }
  }
  if (!floors.empty()) {
    std::sort(floors.begin(), floors.end());
    std::printf("  split floor : max(curl, curl's CPU + line split) / curl per rep %.2fx lowest, "
                "%.2fx median, %.2fx highest: the least a program on libcurl could reach (a "
                "process start included, as in curl's and ssecat's times)\n",
                floors.front(), median(floors), floors.back());
  }
  std::printf("  client/curl : throughput %.2fx, time %.2fx, CPU %.2fx\n", t_curl / t_ours,
              t_ours / t_curl, ours.median_cpu() / curls.median_cpu());
  if (!ssecat.empty()) {
    const double t_cat = ssecats.median_wall();
    std::printf("  ssecat/curl : throughput %.2fx, time %.2fx, CPU %.2fx\n", t_curl / t_cat,
                t_cat / t_curl, ssecats.median_cpu() / curls.median_cpu());
  }
  // On a virtual machine the hypervisor takes the cores away for spells of seconds (the stolen
  // share printed per run), so medians of separate series can mix quiet and stolen spells. Each
  // rep runs the client, curl and ssecat back to back: their ratio within a rep compares them
  // under much the same interference, the fastest run of each is its cost with the least, and
  // the quiet reps are those where the hypervisor took little.
  print_paired("client/curl ", ours, curls);
  if (!ssecat.empty()) {
    print_paired("ssecat/curl ", ssecats, curls);
  }
}

} // namespace

int main(int argc, char** argv) {
  int reps = 3;
  int small_reps = 0; // 0: as many as --reps
  std::size_t large_events = 2000;
  std::size_t small_events = 2000000;
  bool with_raw = true;
  bool client_only = false;
  std::string only;
  std::string ssecat;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (arg == "--small-reps" && i + 1 < argc) {
      // The small events' ratio varies most from rep to rep; more reps steady its median.
      small_reps = std::atoi(argv[++i]);
    } else if (arg == "--large" && i + 1 < argc) {
      large_events = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--small" && i + 1 < argc) {
      small_events = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--ssecat" && i + 1 < argc) {
      ssecat = argv[++i];
    } else if (arg == "--client-only") {
      client_only = true;
    } else if (arg == "--no-raw") {
      with_raw = false;
    } else {
      std::fprintf(stderr, "usage: e2e_bench [--reps N] [--small-reps N] [--large EVENTS] "
                           "[--small EVENTS] "
                           "[--only large|small] [--no-raw] [--client-only] [--ssecat PATH]\n");
      return 2;
    }
  }
  if (only.empty() || only == "large") {
    measure(large_corpus(large_events), reps, with_raw, client_only, ssecat);
  }
  if (only.empty() || only == "small") {
    measure(small_corpus(small_events), small_reps > 0 ? small_reps : reps, with_raw, client_only,
            ssecat);
  }
  return 0;
}
