#pragma once
// How a process ended, as waitpid told it.
#include <string>

namespace lastcall::harness {

struct TargetExit {
    bool exited = false;  // false: killed by `signal`
    int code = 0;
    int signal = 0;
    std::string describe() const;  // "exit 0", "killed by SIGKILL"
    std::string ended() const;     // "exited with status 3", "was killed by SIGSEGV": after "the target"
};

TargetExit exit_from_wait_status(int raw);

} // namespace lastcall::harness
