#pragma once
// Spawns a coroutine as a tracked background task. Cancellation reaches it through an Asio
// cancellation slot: the tracker's cancel_all() emits `total` on the task's own executor.
// A task that wants to be cancellable enables total cancellation in its coroutine:
//     co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
// One that does not (a stuck task) never sees it and is abandoned after the cancel grace.
#include "lastcall/coordinator/task_tracker.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <memory>
#include <string>

namespace lastcall::coordinator {

template <class Executor, class Awaitable>
void spawn_tracked_task(TaskTracker& tracker, std::string name, const Executor& executor, Awaitable task) {
    auto signal = std::make_shared<boost::asio::cancellation_signal>();
    auto handle = tracker.start(std::move(name), [executor, signal] {
        boost::asio::post(executor, [signal] { signal->emit(boost::asio::cancellation_type::total); });
    });
    boost::asio::co_spawn(executor, std::move(task),
                          boost::asio::bind_cancellation_slot(
                              signal->slot(), [handle = std::move(handle), signal](std::exception_ptr) mutable {
                                  handle.release();
                              }));
}

} // namespace lastcall::coordinator
