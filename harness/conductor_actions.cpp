#include "conductor.hpp"

#include "process_kills.hpp"
#include "readback.hpp"
#include "signals.hpp"

#include <fmt/format.h>

#include <thread>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

void Conductor::fire_signal(const SignalAction& action) {
    const int generation = supervisor_->current().number;
    // Marked before the kill is sent: a request already on the wire may meet it at once.
    const bool kill = action.signal == SIGKILL && (action.to == SignalTarget::main || action.to == SignalTarget::group);
    // Two stamps, not the tick's time (this thread can be descheduled between the tick and the
    // kill: 200 ms seen under CPU noise). Before kill(): what the target did from then on may be
    // the signal's doing (a SIGKILLed server refuses connections before kill() returns). After:
    // it was delivered, so a reaction is owed from then on.
    const auto sending = Clock::now();
    if (kill) load_->mark_target_killed(sending);
    const auto outcome = supervisor_->signal(action);
    const auto returned = Clock::now();
    result_.signals.push_back(SignalSent{since_start(sending), action.signal, outcome.to, generation, outcome.delivery.delivered,
                                         outcome.delivery.why, outcome.target_gone, since_start(returned), action.purpose, action.to,
                                         outcome.pids});
    events_.record_at(sending, action.purpose == SignalPurpose::reload ? "reload" : "signal",
                      {{"signal", signal_name(action.signal)}, {"to", outcome.to}, {"pids", outcome.pids}, {"generation", generation},
                       {"purpose", std::string(to_string(action.purpose))}, {"delivered", outcome.delivery.delivered}, {"why", outcome.delivery.why}});
    if (!outcome.delivery.delivered) {
        // Nothing will happen that the scenario planned: say so now rather than wait for max_duration.
        if (!outcome.target_gone) {
            over_ = true;
            result_.ended_by_undelivered_signal = true;
        }
        return;
    }
    const bool first_shutdown_signal =
        result_.signals.back().marks_shutdown() &&
        std::none_of(result_.signals.begin(), result_.signals.end() - 1, [](const SignalSent& s) { return s.marks_shutdown(); });
    if (first_shutdown_signal) result_.judged_generation = generation;
    // The load balancer learns of the shutdown when the signal is sent, and acts endpoint_lag later.
    if (proxy_ && result_.signals.back().marks_shutdown()) proxy_->remove_endpoint_at(sending + scenario_.proxy->endpoint_lag);
    if (kill) result_.killed_by_scenario = true;
}

void Conductor::fire(const DueAction& due) {
    std::visit(
        [&](const auto& action) {
            using A = std::decay_t<decltype(action)>;
            if constexpr (std::is_same_v<A, SignalAction>) {
                fire_signal(action);
            } else if constexpr (std::is_same_v<A, StopLoadAction>) {
                load_->stop(action.workloads);
                events_.record("stop_load", {{"workloads", action.workloads}});
            } else if constexpr (std::is_same_v<A, StartLoadAction>) {
                load_->start_workload(action.workload);
                events_.record("start_load", {{"workload", action.workload}});
            } else if constexpr (std::is_same_v<A, KillIfAliveAction>) {
                const bool alive = !supervisor_->poll_exit();
                events_.record("kill_if_alive", {{"was_alive", alive}});
                if (alive) fire_signal(SignalAction{SIGKILL, SignalTarget::group});
            } else if constexpr (std::is_same_v<A, RestartTargetAction>) {
                restart_pending_ = true;
                events_.record("restart_requested");
            } else if constexpr (std::is_same_v<A, PauseAction>) {
                // The timeline turns a pause into SIGSTOP and SIGCONT signal actions.
            }
        },
        due.action);
}

void Conductor::restart() {
    restart_pending_ = false;
    result_.restarted = true;
    events_.record("restart");
    show_phase(RunPhase::restarting, fmt::format("generation {} exited, starting the next", supervisor_->current().number));
    wait_for_port_released();
    try {
        load_->mark_target_restarted(Clock::now());
        supervisor_->start_generation();
        exit_seen_ = false;
        sampler_->retarget(supervisor_->current().pid);
        if (proxy_) proxy_->endpoint_up();
    } catch (const TargetStartError& e) {
        result_.restart_error = e.what();
        events_.record("restart_failed", {{"error", e.what()}});
        over_ = true;
    } catch (const RunInterrupted&) {
        result_.interrupted = true;
    }
}

// A generation killed as a group (a master and its workers) is reaped as its main process, while
// its other processes may still be dying and holding the listening socket: the next generation
// would find the port in use. Waits for the port (bounded); a port still bound is the restart's
// error to report, not this wait's.
void Conductor::wait_for_port_released() {
    const auto started = Clock::now();
    const auto deadline = started + std::chrono::seconds(5);
    while (!port_bindable(address_, result_.port) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto waited = Clock::now() - started;
    if (waited >= std::chrono::milliseconds(5)) {
        events_.record("restart_waited_for_port", {{"ms", std::chrono::duration<double, std::milli>(waited).count()}});
    }
}

// After a restart, reads back what the checks compare with the acknowledged history.
void Conductor::read_back() {
    if (!result_.restarted || !result_.restart_error.empty()) return;
    const auto& expect = scenario_.expect;
    if (expect.acked_writes) {
        const auto& a = *expect.acked_writes;
        const auto read = read_json_value(address_, result_.port, a.read_path, a.read_pointer);
        result_.acked_state_after_restart = read.value;
        result_.acked_readback_error = read.error;
        events_.record("readback", {{"path", a.read_path}, {"status", read.status}, {"body", read.body}});
    }
    if (expect.jobs_accounted) {
        std::vector<JobRef> jobs;
        for (auto& kept : load_->peek_reply_values()) {
            if (kept.workload < scenario_.workloads.size() && scenario_.workloads[kept.workload].job) jobs.push_back({kept.workload, std::move(kept.value)});
        }
        result_.job_states_after_restart =
            read_job_states(address_, result_.port, scenario_.workloads, jobs, Clock::now() + std::chrono::seconds(10), options_.interrupted);
        events_.record("readback", {{"jobs", result_.job_states_after_restart.size()}});
    }
}

} // namespace lastcall::harness
