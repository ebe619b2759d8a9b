#pragma once
// Background tasks with cooperative cancellation. The tracker only knows how to ask a task to
// stop (`request_cancel`); asio_task.hpp wires that to an Asio cancellation slot.
#include "lastcall/coordinator/idle_latch.hpp"
#include "lastcall/coordinator/ticket.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lastcall::coordinator {

struct TaskCounts {
    std::uint64_t started = 0;
    std::uint64_t completed = 0;  // finished before anyone asked it to stop
    std::uint64_t cancelled = 0;  // finished after cancellation was requested
    std::uint64_t abandoned = 0;  // still running when shutdown gave up on it
};

class TaskTracker {
public:
    // Held by a running task; release() (or destruction) marks it finished.
    using Handle = Ticket<TaskTracker>;

    Handle start(std::string name, std::function<void()> request_cancel);
    void cancel_all();
    // A cancelled task says it heard the request and is now saving its state (a job writing
    // where it stopped). The coordinator waits for such a task past the cancel grace: cutting it
    // would lose the very progress it is saving, and on a stalled disk one fsync can outlast the
    // grace (background-jobs, noise soak: three jobs abandoned while marking themselves
    // resumable). Ignored for a task that was not asked to stop or has finished.
    void acknowledge_stop(std::uint64_t id);
    // The task is inside work it cannot interrupt (a database commit) and looks for a cancel as
    // soon as it is out: a cancel that arrives meanwhile counts as acknowledged at once. The
    // noise soak's background-jobs jobs were in a stalled commit when cancelled, so they could
    // not say so before the grace was over.
    void set_uninterruptible(std::uint64_t id, bool inside);
    // Gives up on every task still running; returns their names for the report.
    std::vector<std::string> abandon_running();
    void on_idle(std::function<void()> on_zero) { latch_.on_idle(std::move(on_zero)); }
    void on_none_saving(std::function<void()> on_zero) { saving_.on_idle(std::move(on_zero)); }

    std::size_t running() const { return latch_.count(); }
    // Tasks that acknowledged cancellation and are still running.
    std::size_t saving() const { return saving_.count(); }
    TaskCounts counts() const;

private:
    struct Task {
        std::string name;
        std::function<void()> request_cancel;
        bool cancel_requested = false;
        bool saving = false;
        bool uninterruptible = false;
    };
    // Under mutex_; true when the task became saving (the caller adds it to saving_).
    static bool start_saving(Task& task);
    friend Handle;
    void release_ticket(std::uint64_t id);

    IdleLatch latch_;
    IdleLatch saving_;
    mutable std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Task> tasks_;
    TaskCounts counts_;
};

} // namespace lastcall::coordinator
