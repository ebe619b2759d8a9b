#pragma once
// One target generation as a process: started in its own process group (so the group can be
// signalled and killed), in the run's cgroup when there is one, stdout/stderr to files, tied to
// lastcall's life with PR_SET_PDEATHSIG; with `pid1`, as PID 1 of a new PID namespace. Its exit
// comes from the ChildReaper, the only waitpid caller.
#include "child_reaper.hpp"
#include "exit_status.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
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
    int cgroup_procs_fd = -1;  // the child joins this cgroup before exec
    bool pid1 = false;         // target.pid1: PID 1 of a new PID namespace (pid_namespace.hpp)
};

// Whether a signal reached its process, and if not, why (errno's text).
struct Delivery {
    bool delivered = false;
    std::string why;
};

// The child could not join the run's cgroup (it exited without starting the command).
class CgroupJoinError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TargetProcess {
public:
    // Throws std::runtime_error when the command cannot be started (with the reason), and
    // PidNamespaceUnavailable when `pid1` was asked for and no namespace could be made.
    TargetProcess(const TargetLaunch& launch, ChildReaper& reaper);
    ~TargetProcess();  // kills the group if still running
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_; }  // readable once the process has exited; -1 if unsupported
    // "pid namespace (pid 1)[ in a user namespace]" with `pid1`; empty without.
    const std::string& namespace_description() const { return namespace_; }
    Delivery signal_main(int signal) const;
    Delivery signal_group(int signal) const;
    std::optional<TargetExit> poll_exit();

private:
    ChildReaper& reaper_;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<TargetExit> exit_;
    std::string namespace_;
    bool in_user_namespace_ = false;
};

Delivery send_signal(pid_t pid, int signal);  // pid < 0: a process group

} // namespace lastcall::harness
