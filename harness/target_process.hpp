#pragma once
// The target as a process: started in its own process group (so the whole group can be signalled
// and killed), stdout/stderr to files, tied to lastcall's life with PR_SET_PDEATHSIG. The
// destructor kills the group and reaps: lastcall never leaves an orphan of its own.
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

struct TargetLaunch {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to lastcall's own environment
    std::filesystem::path cwd;
    std::filesystem::path stdout_file;
    std::filesystem::path stderr_file;
};

struct TargetExit {
    bool exited = false;  // false: killed by `signal`
    int code = 0;
    int signal = 0;
    std::string describe() const;
};

class TargetProcess {
public:
    explicit TargetProcess(const TargetLaunch& launch);  // throws std::runtime_error
    ~TargetProcess();
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_; }  // readable once the process has exited; -1 if unsupported
    bool signal_main(int signal) const;
    bool signal_group(int signal) const;
    // The Nth (1-based) direct child, in order of pid; nullopt if there is none.
    std::optional<pid_t> child(int index) const;

    // Reaps without blocking; the exit once known.
    std::optional<TargetExit> poll_exit();
    const std::optional<TargetExit>& exit_status() const { return exit_; }

    // Processes of the target's group and every descendant seen so far (remembered across calls, so
    // a child re-parented to init after the target died is still found).
    std::set<pid_t> observe_descendants();
    std::vector<pid_t> survivors();  // after exit: what of the group or the seen descendants still lives
    void kill_everything();

private:
    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<TargetExit> exit_;
    std::mutex seen_mutex_;  // the /proc sampler observes from its own thread
    std::set<pid_t> seen_descendants_;
};

// Small /proc readers shared with the samplers.
struct ProcStat {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t pgrp = 0;
    char state = '?';
    long threads = 0;
    long rss_pages = 0;
};
std::optional<ProcStat> read_proc_stat(pid_t pid);
std::vector<ProcStat> all_processes();
int count_open_fds(pid_t pid);  // -1 if unreadable

} // namespace lastcall::harness
