#pragma once
// Every process that belongs to the target, however it detaches. A member is a target generation's
// main process, any descendant of a member, any process in a target's process group, any member of
// the run's cgroup, and — when lastcall is the child subreaper and spawns nothing but targets — any
// child of lastcall it did not spawn itself (an orphan of the target re-parented to lastcall: this
// is how a double-forked `setsid` daemon is caught even when no scan saw it between the forks).
// Members are remembered after they die, so they can be named in evidence.
#include "proc_reader.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

class RunCgroup;

struct FamilyMember {
    pid_t pid = 0;
    pid_t parent = 0;      // as last seen alive
    pid_t group = 0;
    pid_t session = 0;
    int generation = 0;    // the target generation it belongs to (1-based)
    std::string command;   // command line as first seen (or its comm)
    std::string found_by;  // "a descendant", "in the target's process group", "in the run's cgroup", "adopted by lastcall"
    std::chrono::steady_clock::time_point first_seen;
    unsigned long long start_ticks = 0;
    pid_t root_group = 0;  // its generation's process group
    pid_t first_parent = 0;  // its parent when first seen (a worker's master, before any re-parenting)
    // By the scans (every 50 ms while the run goes on): its end lies after last_seen_alive and no
    // later than gone_seen.
    std::chrono::steady_clock::time_point last_seen_alive;
    std::optional<std::chrono::steady_clock::time_point> gone_seen;
    // "pid 123 (sleep 600; left lastcall's session (setsid); parent lastcall; in the run's cgroup, generation 1)"
    std::string describe() const;
};

class ProcessFamily {
public:
    // `self`: lastcall's pid. `adopt_orphans`: every child of `self` it did not spawn is a member.
    ProcessFamily(pid_t self, bool adopt_orphans, const RunCgroup* cgroup);

    void add_root(pid_t pid, int generation);  // a target generation's main process
    bool is_root(pid_t pid) const;
    // Scans /proc (and the cgroup) for members; returns the living members that are not roots.
    std::vector<FamilyMember> observe();
    // An orphan re-parented to lastcall that the reaper is about to reap before any scan saw it.
    void admit_orphan(const ProcStat& p);
    bool adopts_orphans() const { return adopt_orphans_; }
    bool is_member(pid_t pid) const;
    std::optional<FamilyMember> member(pid_t pid) const;
    // Members of `generation` (all when 0), roots excluded, that are alive now.
    std::vector<FamilyMember> alive(int generation = 0);
    // Every member ever seen, living or not, roots excluded.
    std::vector<FamilyMember> members() const;
    // Children of `pid` alive now, in order of pid.
    static std::vector<pid_t> children_of(pid_t pid);

private:
    void admit(const ProcStat& p, int generation, const char* found_by);  // mutex_ held
    int newest_generation() const;                                          // mutex_ held

    pid_t self_;
    bool adopt_orphans_;
    const RunCgroup* cgroup_;
    mutable std::mutex mutex_;  // the /proc sampler observes from its own thread, the reaper asks
    std::map<pid_t, int> roots_;  // pid -> generation
    std::map<pid_t, FamilyMember> members_;
};

} // namespace lastcall::harness
