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
#include <type_traits>

namespace lastcall::coordinator {

// Given to a task that wants to say, once cancelled, "I heard you and am saving my state": the
// coordinator then waits for it past the cancel grace (see TaskTracker::acknowledge_stop). Cheap
// to copy; safe from any thread; does nothing once the task has finished.
class TaskStopping {
public:
    TaskStopping(TaskTracker& tracker, std::uint64_t id) : tracker_(&tracker), id_(id) {}
    void acknowledge() const { tracker_->acknowledge_stop(id_); }

    // Held around work the task cannot interrupt and after which it looks for a cancel (a
    // database commit between steps): a cancel meanwhile counts as acknowledged at once.
    class Uninterruptible {
    public:
        Uninterruptible(TaskTracker& tracker, std::uint64_t id) : tracker_(tracker), id_(id) {
            tracker_.set_uninterruptible(id_, true);
        }
        ~Uninterruptible() { tracker_.set_uninterruptible(id_, false); }
        Uninterruptible(const Uninterruptible&) = delete;
        Uninterruptible& operator=(const Uninterruptible&) = delete;

    private:
        TaskTracker& tracker_;
        std::uint64_t id_;
    };
    [[nodiscard]] Uninterruptible uninterruptible() const { return Uninterruptible(*tracker_, id_); }

private:
    TaskTracker* tracker_;
    std::uint64_t id_;
};

namespace detail {
template <class Executor, class MakeTask>
void spawn_tracked(TaskTracker& tracker, std::string name, const Executor& executor, MakeTask make_task) {
    auto signal = std::make_shared<boost::asio::cancellation_signal>();
    auto handle = tracker.start(std::move(name), [executor, signal] {
        boost::asio::post(executor, [signal] { signal->emit(boost::asio::cancellation_type::total); });
    });
    auto task = make_task(TaskStopping(tracker, handle.id()));
    boost::asio::co_spawn(executor, std::move(task),
                          boost::asio::bind_cancellation_slot(
                              signal->slot(), [handle = std::move(handle), signal](std::exception_ptr) mutable {
                                  handle.release();
                              }));
}
} // namespace detail

template <class Executor, class Awaitable>
void spawn_tracked_task(TaskTracker& tracker, std::string name, const Executor& executor, Awaitable task) {
    detail::spawn_tracked(tracker, std::move(name), executor,
                          [&task](TaskStopping) { return std::move(task); });
}

// The task is made by `make_task(TaskStopping)`, so it can acknowledge its cancellation.
template <class Executor, class MakeTask>
    requires std::is_invocable_v<MakeTask, TaskStopping>
void spawn_tracked_task(TaskTracker& tracker, std::string name, const Executor& executor, MakeTask make_task) {
    detail::spawn_tracked(tracker, std::move(name), executor, std::move(make_task));
}

} // namespace lastcall::coordinator
