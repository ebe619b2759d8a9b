#include "faults.hpp"

namespace lastcall::server {

const std::vector<FaultInfo>& all_faults() {
    static const std::vector<FaultInfo> faults{
        {Fault::no_drain, "no-drain"},
        {Fault::ignore_sigterm, "ignore-sigterm"},
        {Fault::keep_idle, "keep-idle"},
        {Fault::no_close_header, "no-close-header"},
        {Fault::truncate_streams, "truncate-streams"},
        {Fault::checkpoint_early, "checkpoint-early"},
        {Fault::skip_checkpoint, "skip-checkpoint"},
        {Fault::ack_before_durable, "ack-before-durable"},
        {Fault::leak_fd, "leak-fd"},
        {Fault::orphan_child, "orphan-child"},
        {Fault::slow_exit, "slow-exit"},
        {Fault::no_ready_flip, "no-ready-flip"},
        {Fault::forget_stream_positions, "forget-stream-positions"},
        {Fault::master_no_forward, "master-no-forward"},
        {Fault::reload_gap, "reload-gap"},
        {Fault::no_kill_escalation, "no-kill-escalation"},
    };
    return faults;
}

std::optional<Fault> parse_fault(std::string_view name) {
    for (const auto& info : all_faults()) {
        if (info.name == name) return info.fault;
    }
    return std::nullopt;
}

std::string Faults::names() const {
    std::string out;
    for (const auto& info : all_faults()) {
        if (has(info.fault)) out += (out.empty() ? "" : ",") + std::string(info.name);
    }
    return out;
}

} // namespace lastcall::server
