# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (posix thread model: the win32 one
# has no std::thread) and runs what it builds (ctest, catch_discover_tests) under Wine.
# tools/test-windows.sh uses it; by hand:
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DSSE_CLIENT_WINDOWS_DEPS=<prefix printed by tools/windows-deps.sh>
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_sse_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_sse_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_sse_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_sse_mingw}-windres)

# libcurl for Windows (and anything else built for the target) lives in SSE_CLIENT_WINDOWS_DEPS;
# nothing is taken from the host's /usr/include or /usr/lib.
set(SSE_CLIENT_WINDOWS_DEPS "" CACHE PATH "Prefix with libcurl for Windows (tools/windows-deps.sh)")
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${_sse_mingw})
if(SSE_CLIENT_WINDOWS_DEPS)
  list(APPEND CMAKE_FIND_ROOT_PATH ${SSE_CLIENT_WINDOWS_DEPS})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libgcc, libstdc++ and winpthread linked in: an .exe needs no MinGW runtime DLL beside it.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)

# Each program runs under Wine with a prefix of its own in the build tree, quiet, and finds
# libcurl.dll through WINEPATH.
find_program(SSE_CLIENT_WINE NAMES wine64 wine)
if(SSE_CLIENT_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${CMAKE_COMMAND} -E env WINEDEBUG=-all WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix
      "WINEPATH=Z:${SSE_CLIENT_WINDOWS_DEPS}/bin" ${SSE_CLIENT_WINE})
endif()
