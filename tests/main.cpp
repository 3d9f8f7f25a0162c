// SPDX-License-Identifier: MIT
// Catch2's main, compiled here so it carries the project's sanitizer flags.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
