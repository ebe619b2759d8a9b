#include "run_artifacts.hpp"

#include "signals.hpp"

#include <nlohmann/json.hpp>

namespace lastcall::harness {

using nlohmann::json;

void write_run_json(const RunDirectory& dir, const Scenario& scenario, const RunResult& result) {
    json outcomes = json::object();
    for (int i = 0; i < outcome_count; ++i) outcomes[std::string(to_string(static_cast<Outcome>(i)))] = result.outcomes[static_cast<std::size_t>(i)];
    json signals = json::array();
    for (const auto& s : result.signals) {
        signals.push_back({{"t_us", s.t_us}, {"signal", signal_name(s.signal)}, {"to", s.to}, {"generation", s.generation},
                           {"delivered", s.delivered}, {"why", s.why}});
    }
    json generations = json::array();
    for (const auto& g : result.generations) {
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
                                     {"seed", result.seed},
                                     {"port", result.port},
                                     {"start_error", result.start_error},
                                     {"restart_error", result.restart_error},
                                     {"containment", result.containment},
                                     {"judged_generation", result.judged_generation},
                                     {"generations", generations},
                                     {"signals", signals},
                                     {"requests", result.requests},
                                     {"harness_errors", result.harness_errors},
                                     {"outcomes", outcomes},
                                     {"port_released", result.port_released},
                                     {"orphans", result.orphans.size()},
                                     {"limit_reached", result.limit_reached},
                                     {"interrupted", result.interrupted},
                                     {"duration_us", result.duration_us},
                                     {"expect", scenario.expect_yaml},
                                 });
}

} // namespace lastcall::harness
