#!/usr/bin/env bash
# The demo: builds ssecat and the demo server, then follows a flaky stream through its drops
# (resuming from Last-Event-ID, no gap, no duplicate) and an LLM-style POST stream.
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
tools/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target ssecat demo_server

out=$(mktemp)
"$build/examples/demo_server" --port 0 >"$out" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$out" && break
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$out")
[[ -n "$url" ]] || { echo "demo server did not start" >&2; exit 1; }

echo
echo "== ssecat -v --max-events 12 $url/flaky   (the server ends the body every 5 events)"
"$build/examples/ssecat" -v --max-events 12 "$url/flaky"

echo
echo "== ssecat --json -X POST -d '{\"prompt\":\"hi\"}' --until '[DONE]' $url/chat"
"$build/examples/ssecat" --json -X POST -H 'Content-Type: application/json' \
  -d '{"prompt":"hi"}' --until '[DONE]' "$url/chat"
echo
echo "== done: every tick 1..12 once and in order, through two reconnects"
