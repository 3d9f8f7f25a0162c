// SPDX-License-Identifier: MIT
// sse::event_loop's members: inline in header-only mode, in src/sse_client.cpp in compiled mode.
#ifndef SSE_CLIENT_DETAIL_EVENT_LOOP_IMPL_HPP
#define SSE_CLIENT_DETAIL_EVENT_LOOP_IMPL_HPP

#include <sse/detail/config.hpp>
#include <sse/event_loop.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

static_assert(std::is_same_v<detail::native_socket, curl_socket_t>,
              "detail::native_socket must be libcurl's curl_socket_t");

SSE_CLIENT_DECL bool detail::on_loop_thread(const loop_core& loop) noexcept {
  return loop.in_loop_thread();
}

SSE_CLIENT_DECL event_loop::event_loop(mode m)
    : core_(std::make_shared<detail::loop_core>()), mode_(m) {
  if (m == mode::background_thread) {
    core_->start_thread();
  } else if (m == mode::external) {
    core_->drive_externally();
  }
}

SSE_CLIENT_DECL event_loop::~event_loop() {
  core_->shutdown();
}

SSE_CLIENT_DECL void event_loop::run() {
  core_->run(true);
}

SSE_CLIENT_DECL void event_loop::stop() noexcept {
  core_->stop();
}

SSE_CLIENT_DECL bool event_loop::post(std::function<void()> fn) {
  check(fn, "post");
  if (core_->shutting_down().load()) {
    return false; // the destructor waits for the running callback, which may post
  }
  return core_->post([fn = std::move(fn)] { detail::loop_core::run_user(fn); });
}

SSE_CLIENT_DECL timer_id event_loop::add_timer(std::chrono::steady_clock::duration delay,
                                               std::function<void()> fn) {
  return add_timer(std::chrono::steady_clock::now() + delay, std::move(fn));
}

SSE_CLIENT_DECL timer_id event_loop::add_timer(std::chrono::steady_clock::time_point when,
                                               std::function<void()> fn) {
  check(fn, "add_timer");
  return timer_id{core_->add_user_timer(when, std::move(fn))};
}

SSE_CLIENT_DECL bool event_loop::cancel_timer(timer_id id) noexcept {
  return core_->cancel_user_timer(static_cast<std::uint64_t>(id));
}

SSE_CLIENT_DECL event_loop::descriptor_type event_loop::descriptor() const {
  check_external("descriptor");
  return core_->descriptor();
}

SSE_CLIENT_DECL std::optional<std::chrono::milliseconds> event_loop::next_timeout() const {
  check_external("next_timeout");
  return core_->next_timeout();
}

SSE_CLIENT_DECL void event_loop::process() {
  check_external("process");
  core_->process();
}

SSE_CLIENT_DECL event_loop& event_loop::default_loop() {
  static event_loop loop;
  return loop;
}

SSE_CLIENT_DECL void event_loop::check(const std::function<void()>& fn, const char* what) {
  if (!fn) {
    throw std::invalid_argument(std::string("sse::event_loop::") + what + ": empty function");
  }
}

SSE_CLIENT_DECL void event_loop::check_external(const char* what) const {
  if (mode_ != mode::external) {
    throw std::logic_error(std::string("sse::event_loop::") + what +
                           ": only for a loop in mode::external");
  }
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_EVENT_LOOP_IMPL_HPP
