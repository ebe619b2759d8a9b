#include "target_process.hpp"

#include "signals.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lastcall::harness {

namespace {
constexpr int cgroup_join_failed = 1 << 20;  // or-ed into the errno the child reports
} // namespace

std::string TargetExit::describe() const {
    if (exited) return fmt::format("exit {}", code);
    return "killed by " + signal_name(signal);
}

TargetExit exit_from_wait_status(int raw) {
    return TargetExit{WIFEXITED(raw), WIFEXITED(raw) ? WEXITSTATUS(raw) : 0, WIFSIGNALED(raw) ? WTERMSIG(raw) : 0};
}

Delivery send_signal(pid_t pid, int signal) {
    if (::kill(pid, signal) == 0) return {true, {}};
    return {false, std::strerror(errno)};
}

TargetProcess::TargetProcess(const TargetLaunch& launch, ChildReaper& reaper) : reaper_(reaper) {
    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        if (!launch.env.count(name)) env_strings.push_back(entry);
    }
    for (const auto& [name, value] : launch.env) env_strings.push_back(name + "=" + value);
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = launch.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    const int out = ::open(launch.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err = ::open(launch.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || err < 0) {
        if (out >= 0) ::close(out);
        if (err >= 0) ::close(err);
        throw std::runtime_error(fmt::format("cannot create output files in {}", launch.stdout_file.parent_path().string()));
    }
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
        ::close(out);
        ::close(err);
        throw std::runtime_error(fmt::format("pipe failed: {}", std::strerror(errno)));
    }
    const pid_t parent = ::getpid();
    const std::string cwd = launch.cwd.string();
    const int cgroup_fd = launch.cgroup_procs_fd;

    auto hold = reaper_.hold();
    pid_ = ::fork();
    if (pid_ == 0) {
        const auto fail = [&](int error) {
            [[maybe_unused]] auto n = ::write(status_pipe[1], &error, sizeof error);
            ::_exit(127);
        };
        if (cgroup_fd >= 0 && ::write(cgroup_fd, "0", 1) != 1) fail(cgroup_join_failed | errno);
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // lastcall died before prctl took effect
        ::dup2(out, STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
        // lastcall ignores SIGPIPE and may block signals in its threads; the target must inherit neither.
        for (int s = 1; s < NSIG; ++s) {
            if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) fail(errno);
        ::execvpe(argv[0], argv.data(), envp.data());
        fail(errno);
    }
    const int fork_errno = errno;
    if (pid_ > 0) reaper_.watch(pid_);
    hold.unlock();
    ::close(out);
    ::close(err);
    ::close(status_pipe[1]);
    if (pid_ < 0) {
        ::close(status_pipe[0]);
        throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(fork_errno)));
    }
    ::setpgid(pid_, pid_);  // also from the parent, so the group exists before we signal it
    int child_errno = 0;
    ssize_t n;
    do n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    ::close(status_pipe[0]);
    if (n == sizeof child_errno && (child_errno & cgroup_join_failed)) {
        throw CgroupJoinError(fmt::format("cannot join the run's cgroup: {}", std::strerror(child_errno & ~cgroup_join_failed)));
    }
    if (n == sizeof child_errno) {
        throw std::runtime_error(fmt::format("cannot start {}: {}", launch.argv.front(), std::strerror(child_errno)));
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

TargetProcess::~TargetProcess() {
    if (!poll_exit()) ::kill(-pid_, SIGKILL);
    if (pidfd_ >= 0) ::close(pidfd_);
}

Delivery TargetProcess::signal_main(int signal) const { return send_signal(pid_, signal); }
Delivery TargetProcess::signal_group(int signal) const { return send_signal(-pid_, signal); }

std::optional<TargetExit> TargetProcess::poll_exit() {
    if (!exit_) exit_ = reaper_.exit_of(pid_);
    return exit_;
}

} // namespace lastcall::harness
