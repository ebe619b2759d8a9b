#pragma once
// The conductor of one run (run_scenario's engine): starts the target and the observers, plays the
// timeline, restarts, reads back, and writes the run directory. Internal to the harness:
// scenario_run.cpp has the run's course, conductor_actions.cpp what the timeline's actions do.
#include "event_log.hpp"
#include "load_generator.hpp"
#include "proc_connector.hpp"
#include "proxy/reverse_proxy.hpp"
#include "run_directory.hpp"
#include "samplers.hpp"
#include "scenario_run.hpp"
#include "supervisor.hpp"
#include "timeline.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace lastcall::harness {

inline std::int64_t micros(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

class Conductor {
    using Clock = std::chrono::steady_clock;


public:
    Conductor(const Scenario& scenario, const RunOptions& options)
        : scenario_(scenario), options_(options), events_(Clock::now(), options.event), timeline_(scenario.timeline, scenario.jitter, seed()) {}
    RunResult execute();

private:
    std::uint64_t seed() const { return options_.seed.value_or(scenario_.seed) + static_cast<std::uint64_t>(options_.repeat_index); }
    bool interrupted() const { return options_.interrupted && options_.interrupted->load(); }
    std::int64_t since_start(Clock::time_point t) const { return events_.since_start(t); }
    SupervisorOptions supervisor_options(const std::string& workdir) const;
    bool start_first_generation();
    bool start_observers();
    void play();
    bool step(Clock::time_point now);  // false: the run is over
    bool died_before_the_first_signal();  // true: start_error says so
    void fire(const DueAction& due);
    void fire_signal(const SignalAction& action);
    void restart();
    void wait_for_port_released();
    void read_back();
    RunPhase live_phase() const;  // the phase alone: cheap enough for every step
    LiveStatus live_status(Clock::time_point now) const;
    void show_status(Clock::time_point now);
    void show_phase(RunPhase phase, std::string detail);  // a phase that blocks the loop
    void wrap_up();
    void collect();
    void record_history();  // part of collect()
    void write_artifacts();

    const Scenario& scenario_;
    const RunOptions& options_;
    RunResult result_;
    EventLog events_;
    Timeline timeline_;
    std::optional<RunDirectory> dir_;
    HostAddress address_;
    std::unique_ptr<Supervisor> supervisor_;
    std::unique_ptr<LoadGenerator> load_;
    std::unique_ptr<proxy::ReverseProxy> proxy_;  // with `proxy:`, between the load and the target
    std::unique_ptr<ReadinessProber> prober_;
    std::unique_ptr<ProcSampler> sampler_;
    std::unique_ptr<ProcConnector> kernel_;  // null where the kernel will not tell (no CAP_NET_ADMIN)
    Clock::time_point run_start_ = Clock::now();
    Clock::time_point next_status_ = Clock::now();
    std::optional<std::pair<RunPhase, int>> shown_phase_;  // and generation: the last the live view was told
    bool restart_pending_ = false;
    bool exit_seen_ = false;  // of the current generation
    bool over_ = false;       // an undelivered signal or a failed restart ended the run early
};

} // namespace lastcall::harness
