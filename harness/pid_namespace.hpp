#pragma once
// `target: {pid1: true}`: the target as PID 1 of a new PID namespace with its own /proc, as in a
// container, without Docker. The kernel then treats it as an init: a signal from outside (lastcall,
// `docker stop`) reaches it only if it installed a handler (SIGKILL and SIGSTOP always do), and
// when it dies the kernel kills everything else in the namespace.
//
// The target is created by clone3 (CLONE_NEWPID | CLONE_NEWNS | CLONE_PIDFD) rather than fork, so it
// stays lastcall's direct child: reaping, the pidfd and the exit status work as for any target.
// That needs CAP_SYS_ADMIN; without it the namespaces are made inside a new user namespace (the
// parent writes the child's uid and gid maps). If that is forbidden too, the run is not made:
// outside the namespace it would judge a different program (PidNamespaceUnavailable).
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace lastcall::harness {

// Neither way of making the namespace works here; what() says why. The run is reported skipped.
class PidNamespaceUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Which ways lastcall may try. Normally both, in order. The tests force the others with
// LASTCALL_PID1_PRIVILEGE=user (as if without CAP_SYS_ADMIN: straight to the user namespace) or
// =none (as if user namespaces were forbidden too); nothing else reads it.
struct PidNamespacePermits {
    bool plain = true;           // CLONE_NEWPID | CLONE_NEWNS, needs CAP_SYS_ADMIN
    bool user_namespace = true;  // the same inside a new CLONE_NEWUSER
    static PidNamespacePermits from_environment();
};

struct NamespaceChild {
    pid_t pid = -1;  // 0 in the child
    int pidfd = -1;  // the parent's, close-on-exec
    bool in_user_namespace = false;
    std::string describe() const;  // "pid namespace (pid 1)", "... in a user namespace"
};

// clone3 with the namespaces, trying what `permits` allows in order. Returns in both processes like
// fork(); the child must call enter_pid_namespace() before exec. Throws PidNamespaceUnavailable
// with every attempt's reason when none worked (no child then).
NamespaceChild clone_into_pid_namespace(const PidNamespacePermits& permits);

// Parent side, user namespace only: maps the child's root to lastcall's uid and gid (setgroups
// denied first, as the kernel requires of an unprivileged writer). False with `why` on failure.
bool write_id_maps(pid_t child, std::string* why);

enum class NamespaceStep { private_mounts, mount_proc };
const char* describe(NamespaceStep step);  // "making mounts private", "mounting /proc"

// Child side, after the fork-like return and before exec (async-signal-safe): makes mounts private
// to the new mount namespace, so nothing propagates back, and mounts a /proc that shows the new PID
// namespace. Returns 0, or the errno of the step that failed (in `failed`).
int enter_pid_namespace(NamespaceStep* failed);

} // namespace lastcall::harness
