// SPDX-License-Identifier: MIT
// to_string for the public enumerations: each enumerator's own name, "unknown" outside them.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <string_view>

TEST_CASE("to_string: ready_state, close_reason and errc print their enumerators' names",
          "[state]") {
  static_assert(sse::to_string(sse::ready_state::open) == "open", "usable at compile time");
  CHECK(sse::to_string(sse::ready_state::connecting) == "connecting");
  CHECK(sse::to_string(sse::ready_state::closed) == "closed");
  CHECK(sse::to_string(static_cast<sse::ready_state>(42)) == "unknown");

  CHECK(sse::to_string(sse::close_reason::none) == "none");
  CHECK(sse::to_string(sse::close_reason::closed) == "closed");
  CHECK(sse::to_string(sse::close_reason::no_content) == "no_content");
  CHECK(sse::to_string(sse::close_reason::terminal_event) == "terminal_event");
  CHECK(sse::to_string(sse::close_reason::server_ended) == "server_ended");
  CHECK(sse::to_string(sse::close_reason::truncated) == "truncated");
  CHECK(sse::to_string(sse::close_reason::failed) == "failed");
  CHECK(sse::to_string(sse::close_reason::gave_up) == "gave_up");
  CHECK(sse::to_string(static_cast<sse::close_reason>(42)) == "unknown");

  CHECK(sse::to_string(sse::errc::network) == "network");
  CHECK(sse::to_string(sse::errc::tls) == "tls");
  CHECK(sse::to_string(sse::errc::http_status) == "http_status");
  CHECK(sse::to_string(sse::errc::content_type) == "content_type");
  CHECK(sse::to_string(sse::errc::too_large) == "too_large");
  CHECK(sse::to_string(sse::errc::idle_timeout) == "idle_timeout");
  CHECK(sse::to_string(sse::errc::listener) == "listener");
  CHECK(sse::to_string(static_cast<sse::errc>(0)) == "unknown");
}

TEST_CASE("client_stats: failures_of reads the count of one kind", "[state]") {
  sse::client_stats s;
  s.failures_by_code[static_cast<std::size_t>(sse::errc::tls)] = 3;
  CHECK(s.failures_of(sse::errc::tls) == 3);
  CHECK(s.failures_of(sse::errc::network) == 0);
  CHECK(s.failures_of(static_cast<sse::errc>(99)) == 0);
}
