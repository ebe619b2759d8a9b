#pragma once
// Where a timeline signal goes: the target's main process (`target`, `master`), its process group,
// its Nth child by pid (`child N`), every current child (`workers`) or its Nth child by start time
// (`worker N`: a prefork master's first worker stays "worker 1" when a younger one has a smaller
// pid). Pure over a child lister, so the routing is tested without processes.
#include "scenario.hpp"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

struct ChildInfo {
    pid_t pid = 0;
    unsigned long long start_ticks = 0;  // since boot (/proc/PID/stat field 22)
};
// The living children of a process, in any order.
using ChildLister = std::function<std::vector<ChildInfo>(pid_t parent)>;
std::vector<ChildInfo> living_children(pid_t parent);  // from /proc

struct RoutedSignal {
    bool group = false;       // to the main process's group (pids is empty)
    std::vector<pid_t> pids;  // the processes to signal; empty with an error
    std::string to;           // "target", "group", "worker 2 (pid 4242)", "workers (pids 4242, 4243)"
    std::string error;        // why it goes nowhere: "the target (pid 42) has 1 child"
};
RoutedSignal route(const SignalAction& action, pid_t main, const ChildLister& children);

// The purpose a signal has when the scenario does not say: STOP/CONT pause, a signal to a child or
// a worker acts on that process, anything else to the main process or its group is a shutdown signal.
SignalPurpose default_purpose(int signal, SignalTarget to);
std::string_view to_string(SignalPurpose purpose);
// A signal that marks the run's signal moment: a shutdown signal to the main process or its group.
bool is_shutdown_signal(SignalPurpose purpose, SignalTarget to);

} // namespace lastcall::harness
