#pragma once
// The only place that calls waitpid. It reaps the target generations lastcall spawned (keeping
// their exit status for the supervisor) and, the moment they exit, every orphan of the target that
// was re-parented to lastcall as child subreaper, recording each (pid, parent, command, status,
// time). An orphan left unreaped is a zombie the target may be waiting on: a prefork server asking
// "did my CGI child exit?" would never hear yes and escalate to SIGKILL — the verifier must not
// change what it measures.
#include "exit_status.hpp"
#include "process_family.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace lastcall::harness {

struct ReapedOrphan {
    FamilyMember who;
    TargetExit exit;
    std::chrono::steady_clock::time_point when;
};

class ChildReaper {
public:
    explicit ChildReaper(ProcessFamily& family);
    ~ChildReaper();
    ChildReaper(const ChildReaper&) = delete;
    ChildReaper& operator=(const ChildReaper&) = delete;

    // Hold from before fork until watch(): a spawned child that dies at once must not be taken
    // for an orphan.
    std::unique_lock<std::mutex> hold() { return std::unique_lock(mutex_); }
    void watch(pid_t pid);  // with hold() held
    // The exit of a watched child once it has ended (reaped now if it just did).
    std::optional<TargetExit> exit_of(pid_t pid);
    std::optional<std::chrono::steady_clock::time_point> exit_time_of(pid_t pid);
    // Orphans reaped so far, including any that ended and is reaped now (taken: each is returned once).
    std::vector<ReapedOrphan> take_reaped_orphans();

private:
    struct Watched {
        std::optional<TargetExit> exit;
        std::chrono::steady_clock::time_point when;
    };
    void run();
    void reap_pass();  // mutex_ held

    ProcessFamily& family_;
    std::mutex mutex_;
    std::map<pid_t, Watched> watched_;
    std::vector<ReapedOrphan> orphans_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace lastcall::harness
