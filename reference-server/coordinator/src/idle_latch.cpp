#include "lastcall/coordinator/idle_latch.hpp"

namespace lastcall::coordinator {

void IdleLatch::release() {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) fire_if_idle();
}

void IdleLatch::on_idle(std::function<void()> on_zero) {
    {
        std::lock_guard lock(mutex_);
        waiter_ = std::move(on_zero);
    }
    fire_if_idle();
}

void IdleLatch::fire_if_idle() {
    std::function<void()> waiter;
    {
        std::lock_guard lock(mutex_);
        if (!waiter_ || count_.load(std::memory_order_acquire) != 0) return;
        waiter = std::move(waiter_);
        waiter_ = nullptr;
    }
    waiter();
}

} // namespace lastcall::coordinator
