#include "target_process.hpp"

#include "pid_namespace.hpp"
#include "signals.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace lastcall::harness {

namespace {

// What the child writes to the status pipe when it cannot exec the command (nothing on success:
// the pipe closes at exec).
struct ChildFailure {
    enum Step : int { exec, join_cgroup, private_mounts, mount_proc } step = exec;
    int error = 0;
};

// Everything the child needs, made before fork or clone: after it only async-signal-safe calls.
struct ChildPlan {
    std::vector<std::string> env_strings, args;
    std::vector<char*> envp, argv;
    std::string cwd;
    int out = -1, err = -1;
    int status_write = -1;
    int cgroup_fd = -1;
    pid_t parent = -1;
    // target.pid1: the parent's go-ahead (once the user namespace's id maps are written). EOF means
    // lastcall is gone: the child's parent is outside its namespace, so getppid() cannot tell.
    int go_read = -1, go_write = -1;
};

ChildPlan make_plan(const TargetLaunch& launch) {
    ChildPlan plan;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        if (!launch.env.count(name)) plan.env_strings.push_back(entry);
    }
    for (const auto& [name, value] : launch.env) plan.env_strings.push_back(name + "=" + value);
    for (auto& e : plan.env_strings) plan.envp.push_back(e.data());
    plan.envp.push_back(nullptr);
    plan.args = launch.argv;
    for (auto& a : plan.args) plan.argv.push_back(a.data());
    plan.argv.push_back(nullptr);
    plan.cwd = launch.cwd.string();
    plan.cgroup_fd = launch.cgroup_procs_fd;
    plan.parent = ::getpid();
    return plan;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

void close_all(ChildPlan& plan) {
    for (int* fd : {&plan.out, &plan.err, &plan.status_write, &plan.go_read, &plan.go_write}) close_fd(*fd);
}

[[noreturn]] void run_child(const ChildPlan& plan, bool pid1) {
    const auto fail = [&](ChildFailure::Step step, int error) {
        const ChildFailure failure{step, error};
        [[maybe_unused]] auto n = ::write(plan.status_write, &failure, sizeof failure);
        ::_exit(127);
    };
    if (pid1) {
        ::close(plan.go_write);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        char go = 0;
        if (::read(plan.go_read, &go, 1) != 1) ::_exit(127);  // lastcall died, or could not map the ids
    }
    if (plan.cgroup_fd >= 0 && ::write(plan.cgroup_fd, "0", 1) != 1) fail(ChildFailure::join_cgroup, errno);
    ::setpgid(0, 0);
    if (!pid1) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != plan.parent) ::_exit(127);  // lastcall died before prctl took effect
    }
    if (pid1) {
        NamespaceStep step{};
        if (const int error = enter_pid_namespace(&step)) {
            fail(step == NamespaceStep::private_mounts ? ChildFailure::private_mounts : ChildFailure::mount_proc, error);
        }
    }
    ::dup2(plan.out, STDOUT_FILENO);
    ::dup2(plan.err, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // lastcall ignores SIGPIPE and may block signals in its threads; the target must inherit neither.
    for (int s = 1; s < NSIG; ++s) {
        if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Nothing of lastcall's past the exec: Asio opens its sockets without SOCK_CLOEXEC, so a target
    // started mid-run (a restart) kept copies of the load's connections and the proxy's listener:
    // a connection lastcall closed stayed open in the target (no FIN), the target's descriptor
    // count included them, and the load's epoll set kept reporting sockets lastcall had freed.
    // Marked close-on-exec rather than closed, so the status pipe still tells a failed exec.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        rlimit files{};
        const int top = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY ? static_cast<int>(files.rlim_cur) : 65536;
        for (int fd = 3; fd < top; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) fail(ChildFailure::exec, errno);
    ::execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
    fail(ChildFailure::exec, errno);
    ::_exit(127);  // not reached: fail() exits
}

// The child's report, if it wrote one before exiting; nullopt once it exec'd.
std::optional<ChildFailure> read_child_failure(int status_read) {
    ChildFailure failure;
    ssize_t n;
    do n = ::read(status_read, &failure, sizeof failure);
    while (n < 0 && errno == EINTR);
    if (n != sizeof failure) return std::nullopt;
    return failure;
}

// What the child's report means, as the exception the supervisor tells apart.
[[noreturn]] void throw_child_failure(const ChildFailure& failure, const std::string& program, const std::string& where) {
    const char* error = std::strerror(failure.error);
    switch (failure.step) {
    case ChildFailure::join_cgroup: throw CgroupJoinError(fmt::format("cannot join the run's cgroup: {}", error));
    case ChildFailure::private_mounts:
    case ChildFailure::mount_proc: {
        const auto step = failure.step == ChildFailure::private_mounts ? NamespaceStep::private_mounts : NamespaceStep::mount_proc;
        throw PidNamespaceUnavailable(fmt::format("no PID namespace for target.pid1: {} in the new {} failed: {}", describe(step), where, error));
    }
    case ChildFailure::exec: break;
    }
    throw std::runtime_error(fmt::format("cannot start {}: {}", program, error));
}

} // namespace

std::string TargetExit::describe() const {
    if (exited) return fmt::format("exit {}", code);
    return "killed by " + signal_name(signal);
}

std::string TargetExit::ended() const {
    if (exited) return fmt::format("exited with status {}", code);
    return "was killed by " + signal_name(signal);
}

TargetExit exit_from_wait_status(int raw) {
    return TargetExit{WIFEXITED(raw), WIFEXITED(raw) ? WEXITSTATUS(raw) : 0, WIFSIGNALED(raw) ? WTERMSIG(raw) : 0};
}

Delivery send_signal(pid_t pid, int signal) {
    if (::kill(pid, signal) == 0) return {true, {}};
    return {false, std::strerror(errno)};
}

TargetProcess::TargetProcess(const TargetLaunch& launch, ChildReaper& reaper) : reaper_(reaper) {
    ChildPlan plan = make_plan(launch);
    int status_read = -1;
    // Every way out by exception closes what is open; a child already started exits by itself
    // (no go-ahead, or its failure report) and the reaper reaps it.
    const auto abandon = [&] {
        close_all(plan);
        close_fd(status_read);
        close_fd(pidfd_);
    };
    plan.out = ::open(launch.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    plan.err = ::open(launch.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (plan.out < 0 || plan.err < 0) {
        abandon();
        throw std::runtime_error(fmt::format("cannot create output files in {}", launch.stdout_file.parent_path().string()));
    }
    int status_pipe[2] = {-1, -1};
    int go_pipe[2] = {-1, -1};
    const bool piped = ::pipe2(status_pipe, O_CLOEXEC) == 0 && (!launch.pid1 || ::pipe2(go_pipe, O_CLOEXEC) == 0);
    const int pipe_errno = errno;
    status_read = status_pipe[0];
    plan.status_write = status_pipe[1];
    plan.go_read = go_pipe[0];
    plan.go_write = go_pipe[1];
    if (!piped) {
        abandon();
        throw std::runtime_error(fmt::format("pipe failed: {}", std::strerror(pipe_errno)));
    }

    auto hold = reaper_.hold();
    int spawn_errno = 0;
    try {
        if (launch.pid1) {
            const auto child = clone_into_pid_namespace(PidNamespacePermits::from_environment());
            pid_ = child.pid;
            pidfd_ = child.pidfd;
            if (pid_ == 0) run_child(plan, true);
            namespace_ = child.describe();
            in_user_namespace_ = child.in_user_namespace;
        } else {
            pid_ = ::fork();
            spawn_errno = errno;
            if (pid_ == 0) run_child(plan, false);
        }
    } catch (...) {
        abandon();
        throw;
    }
    if (pid_ > 0) reaper_.watch(pid_);
    hold.unlock();
    close_fd(plan.out);
    close_fd(plan.err);
    close_fd(plan.status_write);
    close_fd(plan.go_read);
    if (pid_ < 0) {
        abandon();
        throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(spawn_errno)));
    }
    ::setpgid(pid_, pid_);  // also from the parent, so the group exists before we signal it
    if (launch.pid1) {
        std::string why;
        if (in_user_namespace_ && !write_id_maps(pid_, &why)) {
            abandon();  // closes the go-ahead unwritten: the child exits
            throw PidNamespaceUnavailable("no PID namespace for target.pid1: in a user namespace, " + why);
        }
        [[maybe_unused]] auto n = ::write(plan.go_write, "g", 1);
        close_fd(plan.go_write);
    }
    const auto failure = read_child_failure(status_read);
    close_fd(status_read);
    if (failure) {
        abandon();
        throw_child_failure(*failure, launch.argv.front(), namespace_);
    }
    if (pidfd_ < 0) pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
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
