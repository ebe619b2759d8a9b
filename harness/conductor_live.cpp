// What the conductor tells the live view (live_view.hpp): the phase the target is in, from the
// signals sent, its exit and its readiness probe, with the run's clock and counts.
#include "conductor.hpp"

#include "signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

// The phase from what the conductor knows: a shutdown signal to the current generation, its exit,
// and (with HTTP readiness) whether it still says ready: not ready after the signal is draining.
RunPhase Conductor::live_phase() const {
    if (exit_seen_) return RunPhase::exited;
    const int current = supervisor_->current().number;
    const bool told = std::any_of(result_.signals.begin(), result_.signals.end(),
                                  [current](const SignalSent& sent) { return sent.generation == current && sent.marks_shutdown(); });
    if (!told) return RunPhase::ready;
    return !scenario_.target.ready.http_path.empty() && !prober_->ready() ? RunPhase::draining : RunPhase::signal_sent;
}

LiveStatus Conductor::live_status(Clock::time_point now) const {
    LiveStatus s;
    s.elapsed_us = since_start(now);
    s.max_duration_us = micros(scenario_.max_duration);
    s.counts = load_->live();
    s.provisional = std::any_of(result_.signals.begin(), result_.signals.end(),
                                [](const SignalSent& sent) { return sent.marks_shutdown() || (sent.delivered && sent.signal == SIGKILL); });
    const auto& g = supervisor_->current();
    s.generation = g.number;
    const auto told = std::find_if(result_.signals.begin(), result_.signals.end(),
                                   [&g](const SignalSent& sent) { return sent.generation == g.number && sent.marks_shutdown(); });
    s.phase = live_phase();
    if (s.phase == RunPhase::exited) {
        s.event_us = since_start(g.exited);
        s.detail = fmt::format("{} at {:.2f}s", g.exit ? g.exit->describe() : "exited", static_cast<double>(s.event_us) / 1e6);
    } else if (told != result_.signals.end()) {
        const bool says_not_ready = s.phase == RunPhase::draining;
        s.event_us = told->t_us;
        s.detail = fmt::format("{} at {:.2f}s{}", signal_name(told->signal), static_cast<double>(told->t_us) / 1e6,
                               says_not_ready ? ", not ready" : "");
    }
    return s;
}

// Four times a second, and at once when the phase changes, however briefly it lasts: a target
// that drained in 170 ms went from "signal sent" to "exited" between two reports, and the view
// never showed that it drained.
void Conductor::show_status(Clock::time_point now) {
    if (!options_.progress) return;
    const std::pair phase{live_phase(), supervisor_->current().number};
    if (now < next_status_ && shown_phase_ == phase) return;
    next_status_ = now + std::chrono::milliseconds(250);
    auto status = live_status(now);
    shown_phase_ = std::pair{status.phase, status.generation};
    options_.progress(status);
}

void Conductor::show_phase(RunPhase phase, std::string detail) {
    if (!options_.progress) return;
    LiveStatus s;
    if (load_) s = live_status(Clock::now());  // before the load: the run's clock has not started
    s.max_duration_us = micros(scenario_.max_duration);
    s.phase = phase;
    s.detail = std::move(detail);
    shown_phase_ = std::pair{s.phase, s.generation};
    options_.progress(s);
}

} // namespace lastcall::harness
