#include "lastcall/coordinator/task_tracker.hpp"

#include <utility>

namespace lastcall::coordinator {

TaskTracker::Handle TaskTracker::start(std::string name, std::function<void()> request_cancel) {
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        tasks_.emplace(id, Task{std::move(name), std::move(request_cancel)});
        ++counts_.started;
    }
    latch_.add();
    return Handle{this, id};
}

void TaskTracker::cancel_all() {
    std::vector<std::function<void()>> cancels;
    std::size_t now_saving = 0;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, task] : tasks_) {
            if (task.cancel_requested) continue;
            task.cancel_requested = true;
            if (task.uninterruptible && start_saving(task)) ++now_saving;
            if (task.request_cancel) cancels.push_back(task.request_cancel);
        }
    }
    for (std::size_t i = 0; i < now_saving; ++i) saving_.add();
    for (auto& cancel : cancels) cancel();
}

bool TaskTracker::start_saving(Task& task) {
    if (!task.cancel_requested || task.saving) return false;
    task.saving = true;
    return true;
}

void TaskTracker::acknowledge_stop(std::uint64_t id) {
    {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(id);
        if (it == tasks_.end() || !start_saving(it->second)) return;
    }
    saving_.add();
}

void TaskTracker::set_uninterruptible(std::uint64_t id, bool inside) {
    {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(id);
        if (it == tasks_.end()) return;
        it->second.uninterruptible = inside;
        if (!inside || !start_saving(it->second)) return;
    }
    saving_.add();
}

std::vector<std::string> TaskTracker::abandon_running() {
    std::vector<std::string> names;
    std::size_t abandoned = 0;
    std::size_t were_saving = 0;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, task] : tasks_) {
            names.push_back(task.name);
            if (task.saving) ++were_saving;
        }
        abandoned = tasks_.size();
        counts_.abandoned += abandoned;
        tasks_.clear();
    }
    for (std::size_t i = 0; i < were_saving; ++i) saving_.release();
    for (std::size_t i = 0; i < abandoned; ++i) latch_.release();
    return names;
}

TaskCounts TaskTracker::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

void TaskTracker::release_ticket(std::uint64_t id) {
    bool was_saving = false;
    {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(id);
        if (it == tasks_.end()) return;  // abandoned earlier: already counted
        ++(it->second.cancel_requested ? counts_.cancelled : counts_.completed);
        was_saving = it->second.saving;
        tasks_.erase(it);
    }
    if (was_saving) saving_.release();
    latch_.release();
}

} // namespace lastcall::coordinator
