#include "live_status.hpp"

namespace lastcall::harness {

std::string_view to_string(RunPhase phase) {
    switch (phase) {
    case RunPhase::starting: return "starting";
    case RunPhase::ready: return "ready";
    case RunPhase::signal_sent: return "signal sent";
    case RunPhase::draining: return "draining";
    case RunPhase::exited: return "exited";
    case RunPhase::restarting: return "restarting";
    case RunPhase::finishing: return "finishing";
    }
    return "?";
}

} // namespace lastcall::harness
