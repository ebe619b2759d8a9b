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
    // Gives up on every task still running; returns their names for the report.
    std::vector<std::string> abandon_running();
    void on_idle(std::function<void()> on_zero) { latch_.on_idle(std::move(on_zero)); }

    std::size_t running() const { return latch_.count(); }
    TaskCounts counts() const;

private:
    struct Task {
        std::string name;
        std::function<void()> request_cancel;
        bool cancel_requested = false;
    };
    friend Handle;
    void release_ticket(std::uint64_t id);

    IdleLatch latch_;
    mutable std::mutex mutex_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Task> tasks_;
    TaskCounts counts_;
};

} // namespace lastcall::coordinator
