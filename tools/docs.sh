#!/usr/bin/env bash
# Generates the API reference from the public headers' /// comments with Doxygen, into
# build-docs/html/ (not committed). Fails on any warning: every public name must be documented.
# Usage: tools/docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v doxygen >/dev/null; then
  echo "installing: doxygen"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends doxygen
fi
rm -rf build-docs/html
mkdir -p build-docs
doxygen docs/Doxyfile
echo "API reference: build-docs/html/index.html"
