#include "pid_namespace.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lastcall::harness {

namespace {

// struct clone_args of <linux/sched.h>, version 0 (64 bytes); spelled out here because that header
// redefines glibc's CLONE_* macros.
struct CloneArgs {
    std::uint64_t flags = 0;
    std::uint64_t pidfd = 0;
    std::uint64_t child_tid = 0;
    std::uint64_t parent_tid = 0;
    std::uint64_t exit_signal = 0;
    std::uint64_t stack = 0;
    std::uint64_t stack_size = 0;
    std::uint64_t tls = 0;
};
static_assert(sizeof(CloneArgs) == 64);

// Like fork(), without glibc's fork handlers: the child only does async-signal-safe work until
// exec, as after TargetProcess's fork.
pid_t clone3_with(std::uint64_t flags, int* pidfd) {
    CloneArgs args;
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<std::uintptr_t>(pidfd);
    args.exit_signal = SIGCHLD;  // reaped by waitpid like a forked child
    return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

bool write_file(const std::string& path, const std::string& text, std::string* why) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (!ok) *why = fmt::format("cannot write '{}' to {}: {}", text.substr(0, text.size() - 1), path, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return ok;
}

} // namespace

PidNamespacePermits PidNamespacePermits::from_environment() {
    PidNamespacePermits permits;
    const char* forced = std::getenv("LASTCALL_PID1_PRIVILEGE");
    const std::string value = forced ? forced : "";
    if (value == "user") permits.plain = false;
    if (value == "none") permits = {false, false};
    return permits;
}

std::string NamespaceChild::describe() const {
    return in_user_namespace ? "pid namespace (pid 1) in a user namespace" : "pid namespace (pid 1)";
}

// The reason is put together only once every attempt failed: the child returns through this
// function too, and must not free what the parent allocated (no malloc or free after a clone in a
// threaded process, as after fork).
NamespaceChild clone_into_pid_namespace(const PidNamespacePermits& permits) {
    const std::uint64_t namespaces = CLONE_NEWPID | CLONE_NEWNS;
    NamespaceChild child;
    int plain_errno = 0, user_errno = 0;
    if (permits.plain) {
        child.pid = clone3_with(namespaces, &child.pidfd);
        if (child.pid >= 0) return child;
        plain_errno = errno;
    }
    if (permits.user_namespace) {
        child.in_user_namespace = true;
        child.pid = clone3_with(namespaces | CLONE_NEWUSER, &child.pidfd);
        if (child.pid >= 0) return child;
        user_errno = errno;
    }
    const auto plain = permits.plain ? fmt::format("clone3(CLONE_NEWPID|CLONE_NEWNS): {}", std::strerror(plain_errno))
                                     : std::string("without CAP_SYS_ADMIN (forced by LASTCALL_PID1_PRIVILEGE)");
    const auto user = permits.user_namespace ? fmt::format("with CLONE_NEWUSER: {}", std::strerror(user_errno))
                                             : std::string("user namespaces not allowed (forced by LASTCALL_PID1_PRIVILEGE)");
    throw PidNamespaceUnavailable(fmt::format("no PID namespace for target.pid1: {}; {}", plain, user));
}

bool write_id_maps(pid_t child, std::string* why) {
    const auto proc = fmt::format("/proc/{}/", child);
    return write_file(proc + "setgroups", "deny\n", why) && write_file(proc + "uid_map", fmt::format("{0} {0} 1\n", ::getuid()), why) &&
           write_file(proc + "gid_map", fmt::format("{0} {0} 1\n", ::getgid()), why);
}

const char* describe(NamespaceStep step) {
    return step == NamespaceStep::private_mounts ? "making mounts private" : "mounting /proc";
}

int enter_pid_namespace(NamespaceStep* failed) {
    *failed = NamespaceStep::private_mounts;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
    *failed = NamespaceStep::mount_proc;
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return errno;
    return 0;
}

} // namespace lastcall::harness
