// SPDX-License-Identifier: MIT
// C++20: the smallest coroutine type that can await an event_stream, and be waited for.
#ifndef SSE_CLIENT_TASK_HPP
#define SSE_CLIENT_TASK_HPP

#include <sse/version.hpp>

#if defined(__cpp_impl_coroutine) && defined(__has_include)
#if __has_include(<coroutine>)
#include <coroutine>
#if defined(__cpp_lib_coroutine)
/// Defined (as 1) when the compiler and standard library support C++20 coroutines: then
/// `sse::task` and `sse::event_stream::next_async()` exist.
#define SSE_CLIENT_HAS_COROUTINES 1
#endif
#endif
#endif

#ifdef SSE_CLIENT_HAS_COROUTINES
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

// What a task and its coroutine share: whether the coroutine has finished, and how.
struct task_completion {
  std::mutex mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  std::exception_ptr failure;

  void finish() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex);
      finished = true;
    }
    finished_cv.notify_all();
  }
};

} // namespace detail

/// A coroutine that starts at once, on the calling thread, and runs by itself: make one with a
/// function returning `sse::task` that uses `co_await` (`co_await stream.next_async()`). After
/// each `co_await` of an `event_stream` it goes on on that stream's loop thread.
///
/// The task object only observes the coroutine: destroying it neither stops nor destroys the
/// coroutine (as `std::thread::detach`), which ends by itself when its body returns. An
/// exception escaping the body is kept for `get()`. `wait()` must not run on a thread the
/// coroutine needs to go on (its stream's loop thread): it would never return.
class task {
public:
  /// The coroutine's promise: the compiler uses it, users do not.
  class promise_type {
  public:
    /// The task handed to the caller.
    task get_return_object() { return task(completion_); }
    /// Runs the body at once, on the calling thread.
    std::suspend_never initial_suspend() noexcept { return {}; }
    /// Frees the coroutine's frame as soon as its body returns.
    std::suspend_never final_suspend() noexcept { return {}; }
    /// The body returned.
    void return_void() noexcept {}
    /// An exception escaped the body: kept for `get()`.
    void unhandled_exception() noexcept { completion_->failure = std::current_exception(); }
    promise_type() = default;
    promise_type(const promise_type&) = delete;
    promise_type& operator=(const promise_type&) = delete;
    /// The frame is gone (the body returned, or the frame was destroyed): the task is done.
    ~promise_type() { completion_->finish(); }

  private:
    std::shared_ptr<detail::task_completion> completion_ =
        std::make_shared<detail::task_completion>();
  };

  /// True once the coroutine has ended. Any thread.
  bool done() const {
    std::lock_guard<std::mutex> lock(completion_->mutex);
    return completion_->finished;
  }

  /// Blocks until the coroutine has ended.
  void wait() const {
    std::unique_lock<std::mutex> lock(completion_->mutex);
    completion_->finished_cv.wait(lock, [this] { return completion_->finished; });
  }

  /// As `wait()`, at most `timeout`; true when the coroutine has ended.
  bool wait_for(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(completion_->mutex);
    return completion_->finished_cv.wait_for(lock, timeout,
                                             [this] { return completion_->finished; });
  }

  /// Waits for the end, then throws the exception that escaped the body, if one did.
  void get() const {
    wait();
    std::exception_ptr failure;
    {
      std::lock_guard<std::mutex> lock(completion_->mutex);
      failure = completion_->failure;
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

private:
  explicit task(std::shared_ptr<detail::task_completion> completion)
      : completion_(std::move(completion)) {}

  std::shared_ptr<detail::task_completion> completion_;
};

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_HAS_COROUTINES
#endif // SSE_CLIENT_TASK_HPP
