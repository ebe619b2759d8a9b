#include "signal_router.hpp"

#include "proc_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

std::vector<ChildInfo> living_children(pid_t parent) {
    std::vector<ChildInfo> out;
    for (const auto& p : all_processes()) {
        if (p.ppid == parent && p.alive()) out.push_back(ChildInfo{p.pid, p.start_ticks});
    }
    return out;
}

namespace {

std::string count_children(pid_t main, std::size_t n) {
    return fmt::format("the target (pid {}) has {} {}", main, n, n == 1 ? "child" : "children");
}

} // namespace

RoutedSignal route(const SignalAction& action, pid_t main, const ChildLister& children) {
    RoutedSignal out;
    switch (action.to) {
    case SignalTarget::main:
        out.pids = {main};
        out.to = "target";
        return out;
    case SignalTarget::group:
        out.group = true;
        out.to = "group";
        return out;
    case SignalTarget::child:
    case SignalTarget::worker: {
        auto kids = children(main);
        const bool by_start = action.to == SignalTarget::worker;
        // Start ticks have a resolution of 10 ms: two workers spawned in one tick keep pid order.
        std::sort(kids.begin(), kids.end(), [by_start](const ChildInfo& a, const ChildInfo& b) {
            if (by_start && a.start_ticks != b.start_ticks) return a.start_ticks < b.start_ticks;
            return a.pid < b.pid;
        });
        const char* word = by_start ? "worker" : "child";
        if (action.child_index < 1 || static_cast<std::size_t>(action.child_index) > kids.size()) {
            out.to = fmt::format("{} {}", word, action.child_index);
            out.error = count_children(main, kids.size());
            return out;
        }
        const auto pid = kids[static_cast<std::size_t>(action.child_index - 1)].pid;
        out.pids = {pid};
        out.to = fmt::format("{} {} (pid {})", word, action.child_index, pid);
        return out;
    }
    case SignalTarget::workers: {
        auto kids = children(main);
        std::sort(kids.begin(), kids.end(), [](const ChildInfo& a, const ChildInfo& b) { return a.pid < b.pid; });
        if (kids.empty()) {
            out.to = "workers";
            out.error = count_children(main, 0);
            return out;
        }
        std::string list;
        for (const auto& k : kids) {
            out.pids.push_back(k.pid);
            list += fmt::format("{}{}", list.empty() ? "" : ", ", k.pid);
        }
        out.to = fmt::format("workers (pid{} {})", kids.size() == 1 ? "" : "s", list);
        return out;
    }
    }
    return out;
}

SignalPurpose default_purpose(int signal, SignalTarget to) {
    if (signal == SIGSTOP || signal == SIGCONT) return SignalPurpose::pause;
    if (to == SignalTarget::main || to == SignalTarget::group) return SignalPurpose::shutdown;
    return SignalPurpose::process;
}

std::string_view to_string(SignalPurpose purpose) {
    switch (purpose) {
    case SignalPurpose::shutdown: return "shutdown";
    case SignalPurpose::reload: return "reload";
    case SignalPurpose::pause: return "pause";
    case SignalPurpose::process: return "process";
    }
    return "process";
}

bool is_shutdown_signal(SignalPurpose purpose, SignalTarget to) {
    return purpose == SignalPurpose::shutdown && (to == SignalTarget::main || to == SignalTarget::group);
}

} // namespace lastcall::harness
