#include "lastcall/coordinator/phase.hpp"

namespace lastcall::coordinator {

std::string_view to_string(Phase phase) {
    switch (phase) {
    case Phase::running: return "running";
    case Phase::preparing: return "preparing";
    case Phase::draining: return "draining";
    case Phase::tasks: return "tasks";
    case Phase::cleaning: return "cleaning";
    case Phase::persisting: return "persisting";
    case Phase::exiting: return "exiting";
    case Phase::exited: return "exited";
    }
    return "unknown";
}

std::string_view to_string(ShutdownMode mode) { return mode == ShutdownMode::graceful ? "graceful" : "fast"; }
std::string_view to_string(ShutdownIntent intent) { return intent == ShutdownIntent::stop ? "stop" : "retire"; }

std::string_view to_string(PhaseOutcome outcome) {
    switch (outcome) {
    case PhaseOutcome::completed: return "completed";
    case PhaseOutcome::cancelled: return "cancelled";
    case PhaseOutcome::timed_out: return "timed_out";
    case PhaseOutcome::escalated: return "escalated";
    case PhaseOutcome::skipped: return "skipped";
    case PhaseOutcome::failed: return "failed";
    }
    return "unknown";
}

} // namespace lastcall::coordinator
