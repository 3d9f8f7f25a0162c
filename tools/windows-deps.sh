#!/usr/bin/env bash
# Installs the mingw-w64 cross compiler and Wine, and builds libcurl for Windows (Schannel TLS,
# HTTP only, a DLL) from Debian's curl source package into a prefix. Each part is skipped when
# it is already there, so a second run costs about a second.
# Usage: tools/windows-deps.sh [PREFIX]   (default: build-windows-deps/prefix)
# Prints the prefix on stdout; everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$PWD/build-windows-deps"
prefix="$(realpath -m "${1:-$work/prefix}")"
host=x86_64-w64-mingw32
# Bump when the curl configuration below changes, so a cached prefix is rebuilt.
config_id=1

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
apt_updated=0
apt_update() {
  if ((apt_updated == 0)); then
    $sudo apt-get update -qq
    apt_updated=1
  fi
}

# The posix thread model: the default win32 one has no std::thread or std::mutex.
packages=(g++-mingw-w64-x86-64-posix wine64 wine cmake make dpkg-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

stamp="$prefix/.sse-client-curl"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$config_id" && -f "$prefix/bin/libcurl.dll" ]]; then
  echo "$prefix"
  exit 0
fi

# Debian's own curl source, the version the Linux build links; deb-src entries are added for it.
if ! apt-get source --print-uris curl >/dev/null 2>&1; then
  codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
  echo "adding deb-src entries for $codename" >&2
  $sudo tee /etc/apt/sources.list.d/sse-client-deb-src.sources >/dev/null <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_updated=0
  apt_update
fi
rm -rf "$work/src"
mkdir -p "$work/src"
# apt has checked the files against the signed release; dpkg-source applies Debian's patches.
(cd "$work/src" && apt-get source -qq --download-only curl >&2 &&
  dpkg-source -x ./curl_*.dsc curl >&2) ||
  { echo "windows-deps: could not fetch Debian's curl source" >&2; exit 1; }

cat >"$work/curl-toolchain.cmake" <<TOOLCHAIN
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $host-gcc-posix)
set(CMAKE_RC_COMPILER $host-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$host)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
TOOLCHAIN

# HTTP(S) only, Schannel for TLS, no optional libraries: the DLL needs nothing but Windows.
# libgcc is linked in, so no MinGW runtime DLL has to travel with it.
rm -rf "$work/curl-build"
cmake -S "$work/src/curl" -B "$work/curl-build" -G "Unix Makefiles" \
  -DCMAKE_TOOLCHAIN_FILE="$work/curl-toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_SHARED_LINKER_FLAGS="-static-libgcc" \
  -DBUILD_SHARED_LIBS=ON -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
  -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF \
  -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF -DUSE_WIN32_IDN=OFF -DCURL_USE_LIBSSH2=OFF \
  -DCURL_USE_LIBPSL=OFF -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON -DHTTP_ONLY=ON \
  -DENABLE_UNICODE=OFF >&2
cmake --build "$work/curl-build" -j "$(nproc)" >&2
cmake --install "$work/curl-build" >&2
echo "$config_id" >"$stamp"
echo "$prefix"
