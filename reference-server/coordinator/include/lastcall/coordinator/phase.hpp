#pragma once
#include <cstdint>
#include <string_view>

namespace lastcall::coordinator {

// The shutdown sequence, in order. `running` is before any signal; `exited` after the exit hook.
enum class Phase : std::uint8_t { running, preparing, draining, tasks, cleaning, persisting, exiting, exited };

enum class ShutdownMode : std::uint8_t { graceful, fast };
// stop: the service ends; retire: this process leaves a service that goes on (a reload).
enum class ShutdownIntent : std::uint8_t { stop, retire };

// How a phase ended, as written in the shutdown report.
// `cancelled`: the budget ran out and every task stopped when asked to (cooperative cancellation is
// the designed way to end a long job, which stays resumable); `timed_out` means something did not.
enum class PhaseOutcome : std::uint8_t { completed, cancelled, timed_out, escalated, skipped, failed };

std::string_view to_string(Phase phase);
std::string_view to_string(ShutdownMode mode);
std::string_view to_string(ShutdownIntent intent);
std::string_view to_string(PhaseOutcome outcome);

// Documented in reference-server/README.md; the harness compares against these.
namespace exit_code {
inline constexpr int clean = 0;              // graceful, every phase completed inside its budget
inline constexpr int usage = 2;              // bad flag or value
inline constexpr int refused_to_start = 3;   // port in use, state dir not writable, corrupt checkpoint
inline constexpr int incomplete = 4;         // graceful, but a budget expired (drain cut, task abandoned, resource failed)
inline constexpr int fast = 5;               // fast shutdown (fast signal or escalation); state still persisted
inline constexpr int checkpoint_failed = 6;  // acknowledged state could not be made durable (checkpoint or journal)
} // namespace exit_code

} // namespace lastcall::coordinator
