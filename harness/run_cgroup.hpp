#pragma once
// A cgroup v2 of its own for each run's target, where the machine lets lastcall make one: every
// process the target starts stays a member however it detaches (double fork, setsid), so the
// members can be listed and killed as one. Where cgroup v2 is not mounted or not writable, the
// supervisor falls back to being the child subreaper and scanning /proc (see process_family.hpp).
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

class RunCgroup {
public:
    // nullptr (and `why` says why) when no cgroup can be made here.
    static std::unique_ptr<RunCgroup> create(std::string* why);
    ~RunCgroup();  // kills what is left and removes the directory
    RunCgroup(const RunCgroup&) = delete;
    RunCgroup& operator=(const RunCgroup&) = delete;

    const std::string& path() const { return path_; }
    // Open for writing before fork; the child writes "0" into it to join before exec.
    int procs_fd() const { return procs_fd_; }
    std::vector<pid_t> members() const;  // living members
    void kill_all() const;

private:
    explicit RunCgroup(std::string path, int procs_fd) : path_(std::move(path)), procs_fd_(procs_fd) {}
    std::string path_;
    int procs_fd_ = -1;
};

} // namespace lastcall::harness
