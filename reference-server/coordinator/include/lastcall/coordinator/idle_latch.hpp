#pragma once
// A count of live things and at most one waiter for "the count is zero".
// add()/release() are lock-free; the mutex is taken only when the count reaches zero or a
// waiter is set, so the per-request path pays two atomic operations and nothing else.
#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>

namespace lastcall::coordinator {

class IdleLatch {
public:
    void add() { count_.fetch_add(1, std::memory_order_relaxed); }
    void release();
    std::size_t count() const { return count_.load(std::memory_order_relaxed); }
    // Calls `on_zero` once, as soon as the count is zero (at once if it already is), on the
    // releasing thread. A later call replaces a waiter that has not fired yet.
    void on_idle(std::function<void()> on_zero);

private:
    void fire_if_idle();

    std::atomic<std::size_t> count_{0};
    std::mutex mutex_;
    std::function<void()> waiter_;
};

} // namespace lastcall::coordinator
