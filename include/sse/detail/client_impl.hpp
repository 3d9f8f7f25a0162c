// SPDX-License-Identifier: MIT
// sse::client's members: inline in header-only mode, in src/sse_client.cpp in compiled mode.
#ifndef SSE_CLIENT_DETAIL_CLIENT_IMPL_HPP
#define SSE_CLIENT_DETAIL_CLIENT_IMPL_HPP

#include <sse/client.hpp>
#include <sse/detail/config.hpp>
#include <sse/detail/stream.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

template <typename List, typename Fn>
listener_id client::add(List& list, Fn fn) {
  const listener_id id = live().next_id();
  list.add(id, std::move(fn));
  return id;
}

SSE_CLIENT_DECL client::client(client_options options)
    : stream_(make_stream(std::move(options), nullptr)) {}

SSE_CLIENT_DECL client::client(client_options options, event_loop& loop)
    : stream_(make_stream(std::move(options), &loop)) {}

SSE_CLIENT_DECL client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    detach();
    stream_ = std::move(other.stream_);
  }
  return *this;
}

SSE_CLIENT_DECL client::~client() {
  detach();
}

SSE_CLIENT_DECL listener_id client::on(std::string type, listener fn) {
  const listener_id id = live().next_id();
  live().events_.add(id, std::move(fn), std::move(type));
  return id;
}

SSE_CLIENT_DECL listener_id client::on_any(listener fn) {
  const listener_id id = live().next_id();
  live().events_.add(id, std::move(fn), {}, true);
  return id;
}

SSE_CLIENT_DECL listener_id client::on_open(std::function<void(const response_info&)> fn) {
  return add(live().opens_, std::move(fn));
}

SSE_CLIENT_DECL listener_id client::on_error(std::function<void(const error&)> fn) {
  return add(live().errors_, std::move(fn));
}

SSE_CLIENT_DECL listener_id client::on_comment(std::function<void(std::string_view)> fn) {
  return add(live().comments_, std::move(fn));
}

SSE_CLIENT_DECL listener_id client::on_state_change(std::function<void(sse::ready_state)> fn) {
  return add(live().state_changes_, std::move(fn));
}

SSE_CLIENT_DECL listener_id
client::on_field(std::function<void(std::string_view name, std::string_view value)> fn) {
  return add(live().fields_, std::move(fn));
}

SSE_CLIENT_DECL listener_id client::on_close(std::function<void(sse::close_reason)> fn) {
  return add(live().closes_, std::move(fn));
}

SSE_CLIENT_DECL void client::off(listener_id id) {
  live().remove_listener(id);
}

SSE_CLIENT_DECL void client::start() {
  live().start();
}

SSE_CLIENT_DECL void client::close() noexcept {
  if (stream_) {
    stream_->close();
  }
}

SSE_CLIENT_DECL void client::pause() {
  live().pause();
}

SSE_CLIENT_DECL void client::resume() {
  live().resume();
}

SSE_CLIENT_DECL void client::restart(bool reset_backoff) {
  live().restart(reset_backoff);
}

SSE_CLIENT_DECL sse::ready_state client::ready_state() const {
  return live().state();
}

SSE_CLIENT_DECL sse::close_reason client::close_reason() const {
  return live().reason();
}

SSE_CLIENT_DECL std::string client::last_event_id() const {
  return live().last_event_id();
}

SSE_CLIENT_DECL const std::string& client::url() const {
  return live().options().url;
}

SSE_CLIENT_DECL client_stats client::stats() const {
  return live().stats();
}

SSE_CLIENT_DECL void client::wait() {
  live().wait_closed(std::nullopt);
}

SSE_CLIENT_DECL bool client::wait_for(std::chrono::milliseconds timeout) {
  return live().wait_closed(timeout);
}

SSE_CLIENT_DECL std::shared_ptr<detail::stream> client::make_stream(client_options options,
                                                                    event_loop* loop) {
  detail::adopt_last_event_id_header(options); // first, so its value is validated too
  detail::validate(options);
  event_loop& chosen = loop != nullptr ? *loop : event_loop::default_loop();
  return std::make_shared<detail::stream>(std::move(options), chosen.core());
}

SSE_CLIENT_DECL detail::stream& client::live() const {
  if (!stream_) {
    throw std::logic_error("sse::client: used after it was moved from");
  }
  return *stream_;
}

SSE_CLIENT_DECL void client::detach() noexcept {
  if (stream_) {
    stream_->detach();
    stream_.reset();
  }
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_CLIENT_IMPL_HPP
