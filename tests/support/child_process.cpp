#include "child_process.hpp"

#include <iterator>

#include <fstream>

#include <cerrno>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace lastcall::testing {

std::string describe(const ExitStatus& status) {
    return status.exited ? "exit " + std::to_string(status.code) : "killed by signal " + std::to_string(status.signal);
}

std::string server_binary() {
    // LASTCALL_TEST_SERVER runs the same tests against another build (to show that a regression
    // test fails on an older server, for example).
    const char* other = std::getenv("LASTCALL_TEST_SERVER");
    return other && *other ? other : LASTCALL_SERVER_BINARY;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setpgroup(&attributes, 0);  // own group: we can kill everything it starts
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
    if (rc != 0) {
        ::close(stdout_fd_);
        throw std::runtime_error(std::string("cannot start ") + argv[0] + ": " + std::strerror(rc));
    }
}

ChildProcess::~ChildProcess() {
    ::kill(-pid_, SIGKILL);
    if (!status_) ::waitpid(pid_, nullptr, 0);
    ::close(stdout_fd_);
}

void ChildProcess::signal(int signal_number) const { ::kill(pid_, signal_number); }

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto newline = pending_.find('\n'); newline != std::string::npos) {
            auto line = pending_.substr(0, newline);
            pending_.erase(0, newline + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd fd{stdout_fd_, POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
        char buffer[512];
        const auto n = ::read(stdout_fd_, buffer, sizeof buffer);
        if (n <= 0) return std::nullopt;
        pending_.append(buffer, static_cast<std::size_t>(n));
    }
}

std::optional<ExitStatus> ChildProcess::wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // A pidfd becomes readable the instant the child exits, so exit times are exact.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    for (;;) {
        int raw = 0;
        if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
            if (pidfd >= 0) ::close(pidfd);
            status_ = ExitStatus{WIFEXITED(raw), WIFEXITED(raw) ? WEXITSTATUS(raw) : 0, WIFSIGNALED(raw) ? WTERMSIG(raw) : 0};
            return status_;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (pidfd >= 0) ::close(pidfd);
            return std::nullopt;
        }
        if (pidfd >= 0) {
            pollfd fd{pidfd, POLLIN, 0};
            ::poll(&fd, 1, static_cast<int>(left.count()) + 1);
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));  // kernels without pidfd
        }
    }
}

CommandResult run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file,
                         std::chrono::milliseconds timeout) {
    CommandResult result;
    {
        ChildProcess process(argv, stderr_file);
        while (const auto line = process.read_line(timeout)) result.out += *line + "\n";
        result.status = process.wait(timeout).value_or(ExitStatus{false, 0, SIGKILL});
    }
    std::ifstream in(stderr_file);
    result.err.assign(std::istreambuf_iterator<char>(in), {});
    return result;
}

} // namespace lastcall::testing
