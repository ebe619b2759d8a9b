#include "run_artifacts.hpp"

#include "signals.hpp"

namespace lastcall::harness {

using nlohmann::json;

void write_run_artifacts(const RunDirectory& dir, const Scenario& scenario, const RunResult& run, const std::vector<json>& events) {
    dir.write_history([&run](const RecordVisitor& visit) { return for_each_request(run, visit); }, run.workload_names);
    dir.write_stream_trails(run.stream_trails);
    dir.write_events(events);
    dir.write_samples(run.samples);
    if (run.proxied) dir.write_proxy_records(run.proxy_records);
    json outcomes = json::object();
    for (int i = 0; i < outcome_count; ++i) outcomes[std::string(to_string(static_cast<Outcome>(i)))] = run.outcomes[static_cast<std::size_t>(i)];
    json signals = json::array();
    for (const auto& s : run.signals) {
        signals.push_back({{"t_us", s.t_us}, {"signal", signal_name(s.signal)}, {"to", s.to}, {"generation", s.generation},
                           {"purpose", std::string(to_string(s.purpose))}, {"pids", s.pids}, {"delivered", s.delivered}, {"why", s.why}});
    }
    json processes = json::array();
    for (const auto& p : run.processes) processes.push_back(to_json(p));
    json generations = json::array();
    for (const auto& g : run.generations) {
        json orphans = json::array();
        for (const auto& m : g.orphans) orphans.push_back(m.describe());
        generations.push_back({{"generation", g.number}, {"pid", g.pid}, {"spawn_us", g.spawn_us}, {"ready_us", g.ready_us},
                               {"exit_us", g.exit_us}, {"exit", g.exit ? json(g.exit->describe()) : json(nullptr)},
                               {"killed_by_lastcall", g.killed_by_lastcall}, {"shutdown_report", std::string(to_string(g.report.state))},
                               {"shutdown_report_detail", g.report.detail}, {"orphans", orphans},
                               {"stdout", g.stdout_file.filename().string()}, {"stderr", g.stderr_file.filename().string()}});
    }
    dir.write_json("run.json", {
                                     {"version", 2},
                                     {"scenario", scenario.name},
                                     {"file", scenario.file},
                                     {"seed", run.seed},
                                     {"port", run.port},
                                     {"start_error", run.start_error},
                                     {"skipped", run.skipped},
                                     {"restart_error", run.restart_error},
                                     {"containment", run.containment},
                                     {"judged_generation", run.judged_generation},
                                     {"generations", generations},
                                     {"process_events", run.process_events},
                                     {"processes", processes},
                                     {"signals", signals},
                                     {"requests", run.requests},
                                     {"harness_errors", run.harness_errors},
                                     {"history", {{"bytes", run.history_bytes}, {"limit", run.history_limit}, {"limit_lowered", run.history_limit_lowered},
                                                  {"dropped", run.history_dropped}, {"error", run.history_error}}},
                                     {"outcomes", outcomes},
                                     {"port_released", run.port_released},
                                     {"orphans", run.orphans.size()},
                                     {"limit_reached", run.limit_reached},
                                     {"interrupted", run.interrupted},
                                     {"duration_us", run.duration_us},
                                     {"expect", scenario.expect_yaml},
                                 });
}

} // namespace lastcall::harness
