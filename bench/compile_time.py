#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile time of a file that uses sse-client, beside two popular header-only libraries.

Compiles tiny translation units with the system g++ at -O0 (-std=c++17, -c, no link), interleaved
rep by rep so that the machine's noise hits every one alike, and prints the median wall time, CPU
time (user + system) and peak RSS (the last two from /usr/bin/time, when installed) of each:

  sse           #include <sse/sse.hpp>; one sse::client with a URL, on_message, start()
  sse-compiled  the same with SSE_CLIENT_SEPARATE_COMPILATION (declarations only); skipped when
                the headers have no compiled mode
  sse-library   src/sse_client.cpp, which a program in compiled mode compiles once
  json          #include <nlohmann/json.hpp>; parse and dump a small object
  httplib       #include <httplib.h>; one httplib::Client and a Get

Usage: bench/compile_time.py [--reps 5] [--cxx g++] [--include DIR] [--flags "..."]
                             [--baseline OLD_INCLUDE_DIR]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SSE_TU = """#include <sse/sse.hpp>

int main() {
  sse::client_options options;
  options.url = "http://127.0.0.1:8080/events";
  sse::client client(options);
  int count = 0;
  client.on_message([&count](const sse::event& e) { count += static_cast<int>(e.data.size()); });
  client.start();
  return count;
}
"""

JSON_TU = """#include <nlohmann/json.hpp>

#include <string>

int main() {
  auto j = nlohmann::json::parse(R"({"name": "sse", "n": 1, "list": [1, 2, 3]})");
  j["n"] = j["n"].get<int>() + 1;
  const std::string s = j.dump();
  return static_cast<int>(s.size());
}
"""

HTTPLIB_TU = """#include <httplib.h>

int main() {
  httplib::Client client("http://127.0.0.1:8080");
  auto res = client.Get("/events");
  return res ? res->status : 1;
}
"""


def has_compiled_mode(include_dir):
    """True when the headers know SSE_CLIENT_SEPARATE_COMPILATION."""
    for dirpath, _, files in os.walk(os.path.join(include_dir, "sse")):
        for name in files:
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                if "SSE_CLIENT_SEPARATE_COMPILATION" in f.read():
                    return True
    return False


def compile_once(cxx, flags, source, extra):
    """One compile: (wall seconds, CPU seconds or None, peak RSS in MB or None)."""
    timer = os.path.exists("/usr/bin/time")
    cmd = [cxx, "-std=c++17", "-O0", *flags, *extra, "-c", source, "-o", os.devnull]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        if timer:
            cmd = ["/usr/bin/time", "-f", "%U %S %M", "-o", out.name, *cmd]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"compile failed: {' '.join(cmd)}\n{proc.stderr}")
        cpu, rss = None, None
        if timer:
            fields = out.read().split()[-3:]
            cpu = float(fields[0]) + float(fields[1])
            rss = int(fields[2]) / 1024
    return wall, cpu, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cxx", default="g++")
    ap.add_argument("--include", default=os.path.join(ROOT, "include"),
                    help="the sse-client headers (include/ or single_include/)")
    ap.add_argument("--flags", default="", help="more compiler flags for every unit")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also time the sse unit against the headers in DIR (say, an earlier "
                         "release's include/), interleaved with the rest")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sse_ctime_")
    units = [("sse", SSE_TU, ["-I", args.include])]
    if args.baseline:
        units.insert(0, ("sse-baseline", SSE_TU, ["-I", args.baseline]))
    if has_compiled_mode(args.include):
        units.append(("sse-compiled", SSE_TU,
                      ["-I", args.include, "-DSSE_CLIENT_SEPARATE_COMPILATION"]))
        library = os.path.join(ROOT, "src", "sse_client.cpp")
        if os.path.exists(library):
            with open(library, encoding="utf-8") as f:
                units.append(("sse-library", f.read(), ["-I", args.include]))
    units += [("json", JSON_TU, []), ("httplib", HTTPLIB_TU, [])]
    sources = {}
    for name, text, _ in units:
        path = os.path.join(work, name.replace("-", "_") + ".cpp")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        sources[name] = path

    flags = args.flags.split()
    walls = {name: [] for name, _, _ in units}
    cpus = {name: [] for name, _, _ in units}
    rsss = {name: [] for name, _, _ in units}
    load_before = os.getloadavg()
    # Warm the page cache once, untimed, then interleave: rep 1 of each, rep 2 of each, ...
    for name, _, extra in units:
        compile_once(args.cxx, flags, sources[name], extra)
    for _ in range(args.reps):
        for name, _, extra in units:
            wall, cpu, rss = compile_once(args.cxx, flags, sources[name], extra)
            walls[name].append(wall)
            if cpu is not None:
                cpus[name].append(cpu)
                rsss[name].append(rss)
    load_after = os.getloadavg()
    shutil.rmtree(work)

    version = subprocess.run([args.cxx, "--version"], capture_output=True, text=True).stdout
    print(f"{version.splitlines()[0]}, -std=c++17 -O0 -c {args.flags}".rstrip())
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"{os.cpu_count()} cores; {args.reps} reps, interleaved")
    print()
    print("| unit | median wall (s) | min | max | median CPU (s) | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, _, _ in units:
        w = walls[name]
        cpu = f"{statistics.median(cpus[name]):.2f}" if cpus[name] else "n/a"
        rss = f"{statistics.median(rsss[name]):.0f}" if rsss[name] else "n/a"
        print(f"| {name} | {statistics.median(w):.2f} | {min(w):.2f} | {max(w):.2f} | {cpu} "
              f"| {rss} |")


if __name__ == "__main__":
    main()
