#pragma once
// A real child process in its own process group, killed (the whole group) and reaped when the
// object goes away, so a failing test never leaves anything running.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::testing {

struct ExitStatus {
    bool exited = false;  // false: killed by `signal`
    int code = 0;
    int signal = 0;
    bool clean() const { return exited && code == 0; }
};
std::string describe(const ExitStatus& status);

class ChildProcess {
public:
    // stdout goes to a pipe read by read_line(); stderr to `stderr_file`.
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int signal_number) const;
    // One line of stdout, or nullopt on EOF or timeout.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Reaps the child if it exits within `timeout`.
    std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string pending_;
    std::optional<ExitStatus> status_;
};

// A command run to its end: all it printed on stdout, its stderr (kept in `stderr_file`), how it
// ended (SIGKILL if it outlived `timeout`, when the ChildProcess kills its group).
struct CommandResult {
    ExitStatus status;
    std::string out;
    std::string err;
};
CommandResult run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file,
                         std::chrono::milliseconds timeout);

// Path of the lastcall-server binary, baked in by CMake; LASTCALL_TEST_SERVER overrides it.
std::string server_binary();

} // namespace lastcall::testing
