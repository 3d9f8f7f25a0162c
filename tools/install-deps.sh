#!/usr/bin/env bash
# Installs the Debian packages the build, tests, examples and benchmarks need, only when missing.
# Usage: tools/install-deps.sh [--fuzz]   (--fuzz adds clang for the libFuzzer targets)
set -euo pipefail

packages=(cmake g++ make pkg-config python3 libcurl4-openssl-dev catch2 libcpp-httplib-dev
          nlohmann-json3-dev libbenchmark-dev zlib1g-dev libbrotli-dev libzstd-dev
          openssl curl nginx-light libasio-dev libuv1-dev)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
