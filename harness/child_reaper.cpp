#include "child_reaper.hpp"

#include <chrono>
#include <utility>
#include <sys/wait.h>

namespace lastcall::harness {

ChildReaper::ChildReaper(ProcessFamily& family) : family_(family), thread_([this] { run(); }) {}

ChildReaper::~ChildReaper() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    reap_pass();
}

void ChildReaper::watch(pid_t pid) { watched_[pid]; }

std::optional<TargetExit> ChildReaper::exit_of(pid_t pid) {
    std::lock_guard lock(mutex_);
    reap_pass();
    const auto it = watched_.find(pid);
    return it == watched_.end() ? std::nullopt : it->second.exit;
}

std::optional<std::chrono::steady_clock::time_point> ChildReaper::exit_time_of(pid_t pid) {
    std::lock_guard lock(mutex_);
    const auto it = watched_.find(pid);
    if (it == watched_.end() || !it->second.exit) return std::nullopt;
    return it->second.when;
}

std::vector<ReapedOrphan> ChildReaper::take_reaped_orphans() {
    std::lock_guard lock(mutex_);
    reap_pass();  // one that just ended is no longer alive: it must not fall between "alive" and "reaped"
    return std::exchange(orphans_, {});
}

void ChildReaper::reap_pass() {
    for (auto& [pid, w] : watched_) {
        int raw = 0;
        if (!w.exit && ::waitpid(pid, &raw, WNOHANG) == pid) {
            w.exit = exit_from_wait_status(raw);
            w.when = std::chrono::steady_clock::now();
        }
    }
    // Peek at whichever child is waitable without reaping it: only ours are taken. A child that is
    // neither watched nor the target's (a test's own helper process) is left for its owner.
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
        const pid_t pid = info.si_pid;
        if (watched_.count(pid)) return;  // a watched child that exited after the loop above: next pass
        if (!family_.adopts_orphans() && !family_.is_member(pid)) return;
        if (!family_.is_member(pid)) {
            if (const auto stat = read_proc_stat(pid)) family_.admit_orphan(*stat);
        }
        int raw = 0;
        if (::waitpid(pid, &raw, WNOHANG) != pid) return;
        ReapedOrphan reaped;
        if (auto known = family_.member(pid)) reaped.who = std::move(*known);
        else reaped.who.pid = pid;
        reaped.exit = exit_from_wait_status(raw);
        reaped.when = std::chrono::steady_clock::now();
        orphans_.push_back(std::move(reaped));
    }
}

void ChildReaper::run() {
    // Every 2 ms when orphans come to lastcall (a waitid that finds nothing costs a microsecond);
    // otherwise only the targets are ours, and the supervisor asks for their exit itself.
    const auto period = std::chrono::milliseconds(family_.adopts_orphans() ? 2 : 20);
    while (!stopping_) {
        {
            std::lock_guard lock(mutex_);
            reap_pass();
        }
        std::this_thread::sleep_for(period);
    }
}

} // namespace lastcall::harness
