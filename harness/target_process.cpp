#include "target_process.hpp"

#include "signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lastcall::harness {

namespace fs = std::filesystem;

std::string TargetExit::describe() const {
    if (exited) return fmt::format("exit {}", code);
    return "killed by " + signal_name(signal);
}

TargetProcess::TargetProcess(const TargetLaunch& launch) {
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
    if (out < 0 || err < 0) throw std::runtime_error(fmt::format("cannot create output files in {}", launch.stdout_file.parent_path().string()));
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = ::getpid();
    const std::string cwd = launch.cwd.string();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(errno)));
    if (pid_ == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // lastcall died before prctl took effect
        ::dup2(out, STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
        ::signal(SIGPIPE, SIG_DFL);  // lastcall ignores it; the target must not inherit that
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            const int e = errno;
            [[maybe_unused]] auto n = ::write(status_pipe[1], &e, sizeof e);
            ::_exit(127);
        }
        ::execvpe(argv[0], argv.data(), envp.data());
        const int e = errno;
        [[maybe_unused]] auto n = ::write(status_pipe[1], &e, sizeof e);
        ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also from the parent, so the group exists before we signal it
    ::close(out);
    ::close(err);
    ::close(status_pipe[1]);
    int child_errno = 0;
    const auto n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
    ::close(status_pipe[0]);
    if (n == sizeof child_errno) {
        ::waitpid(pid_, nullptr, 0);
        exit_ = TargetExit{true, 127, 0};
        throw std::runtime_error(fmt::format("cannot start {}: {}", launch.argv.front(), std::strerror(child_errno)));
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

TargetProcess::~TargetProcess() {
    kill_everything();
    if (!exit_) ::waitpid(pid_, nullptr, 0);
    if (pidfd_ >= 0) ::close(pidfd_);
}

bool TargetProcess::signal_main(int signal) const { return ::kill(pid_, signal) == 0; }
bool TargetProcess::signal_group(int signal) const { return ::kill(-pid_, signal) == 0; }

std::optional<pid_t> TargetProcess::child(int index) const {
    std::vector<pid_t> children;
    for (const auto& p : all_processes()) {
        if (p.ppid == pid_) children.push_back(p.pid);
    }
    std::sort(children.begin(), children.end());
    if (index < 1 || static_cast<std::size_t>(index) > children.size()) return std::nullopt;
    return children[static_cast<std::size_t>(index - 1)];
}

std::optional<TargetExit> TargetProcess::poll_exit() {
    if (exit_) return exit_;
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
        exit_ = TargetExit{WIFEXITED(raw), WIFEXITED(raw) ? WEXITSTATUS(raw) : 0, WIFSIGNALED(raw) ? WTERMSIG(raw) : 0};
    }
    return exit_;
}

std::set<pid_t> TargetProcess::observe_descendants() {
    const auto processes = all_processes();
    std::set<pid_t> family{pid_};
    bool grew = true;
    while (grew) {  // transitive closure over parent links
        grew = false;
        for (const auto& p : processes) {
            if (p.pid != pid_ && (family.count(p.ppid) || p.pgrp == pid_) && family.insert(p.pid).second) grew = true;
        }
    }
    family.erase(pid_);
    std::lock_guard lock(seen_mutex_);
    seen_descendants_.insert(family.begin(), family.end());
    return family;
}

std::vector<pid_t> TargetProcess::survivors() {
    observe_descendants();
    std::vector<pid_t> alive;
    std::lock_guard lock(seen_mutex_);
    for (const auto pid : seen_descendants_) {
        const auto stat = read_proc_stat(pid);
        if (stat && stat->state != 'Z' && stat->state != 'X') alive.push_back(pid);
    }
    return alive;
}

void TargetProcess::kill_everything() {
    ::kill(-pid_, SIGKILL);
    std::lock_guard lock(seen_mutex_);
    for (const auto pid : seen_descendants_) ::kill(pid, SIGKILL);
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    ProcStat s;
    s.pid = pid;
    std::string skip;
    rest >> s.state >> s.ppid >> s.pgrp;
    for (int field = 6; field < 20; ++field) rest >> skip;  // through field 19
    rest >> s.threads;
    for (int field = 21; field < 24; ++field) rest >> skip;
    rest >> s.rss_pages;
    return s;
}

std::vector<ProcStat> all_processes() {
    std::vector<ProcStat> out;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
        if (auto stat = read_proc_stat(static_cast<pid_t>(std::stol(name)))) out.push_back(*stat);
    }
    return out;
}

int count_open_fds(pid_t pid) {
    std::error_code ec;
    int count = 0;
    for (fs::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec), end; !ec && it != end; it.increment(ec)) ++count;
    return ec ? -1 : count;
}

} // namespace lastcall::harness
