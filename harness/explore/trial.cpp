// Trial names and the one-line description reports print.
#include "trial.hpp"

#include "signals.hpp"

#include <fmt/format.h>

namespace lastcall::harness::explore {

std::string_view to_string(SignalSequence sequence) {
    switch (sequence) {
    case SignalSequence::graceful: return "graceful";
    case SignalSequence::fast: return "fast";
    case SignalSequence::graceful_then_kill: return "graceful_then_kill";
    case SignalSequence::graceful_twice: return "graceful_twice";
    case SignalSequence::pause_while_draining: return "pause_while_draining";
    case SignalSequence::reload_only: return "reload_only";
    }
    return "?";
}

std::string describe(const Trial& trial) {
    std::string out;
    const std::string shape = trial.shape_name.empty() ? "" : "[" + trial.shape_name + "] ";
    for (const auto& w : trial.workloads) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", w.name,
                           w.rate > 0 ? fmt::format("at {:g}/s", w.rate) : fmt::format("x{}", w.connections));
    }
    const int first = trial.sequence == SignalSequence::fast ? trial.fast_signal : trial.graceful_signal;
    for (std::size_t i = 0; i < trial.reloads.size(); ++i) {
        out += fmt::format("{} {}", i == 0 ? "; reload at" : ",", format_duration(trial.reloads[i]));
    }
    if (trial.sequence == SignalSequence::reload_only) {
        out += fmt::format("; no shutdown signal, the load stops at {}", format_duration(trial.moment.at));
    } else if (trial.moment.in_flight_at_least) {
        out += fmt::format("; {} {} after in_flight >= {}", signal_name(first), format_duration(trial.moment.delay), *trial.moment.in_flight_at_least);
    } else {
        out += fmt::format("; {} at {}", signal_name(first), format_duration(trial.moment.at));
    }
    switch (trial.sequence) {
    case SignalSequence::graceful_then_kill: out += fmt::format(", then SIGKILL {} after", format_duration(trial.follow_up)); break;
    case SignalSequence::graceful_twice: out += fmt::format(", then {} again {} after", signal_name(trial.graceful_signal), format_duration(trial.follow_up)); break;
    case SignalSequence::pause_while_draining:
        out += fmt::format(", then SIGSTOP {} after, SIGCONT {} later", format_duration(trial.follow_up), format_duration(trial.pause));
        break;
    default: break;
    }
    if (!trial.kept_entries.empty()) out += fmt::format("; {} of the scenario's own timeline entries", trial.kept_entries.size());
    return shape + out;
}

} // namespace lastcall::harness::explore
