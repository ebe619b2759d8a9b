// report.json: a run's verdict, everything in it, machine-readable and versioned (reports/README.md).
#include "reports.hpp"
#include "signals.hpp"

#include "scenario_loader.hpp"

#include <nlohmann/json.hpp>

namespace lastcall::reports {

namespace {

nlohmann::json run_json(const RunVerdict& v) {
    using nlohmann::json;
    json checks = json::array();
    for (const auto& c : v.checks) {
        checks.push_back({{"name", c.name}, {"status", harness::to_string(c.status)}, {"bound", c.bound}, {"measured", c.measured},
                          {"message", c.message}, {"evidence", c.evidence}});
    }
    json outcomes = json::object();
    for (int i = 0; i < harness::outcome_count; ++i) {
        outcomes[std::string(harness::to_string(static_cast<harness::Outcome>(i)))] = v.run.outcomes[static_cast<std::size_t>(i)];
    }
    json signals = json::array();
    for (const auto& s : v.run.signals) {
        signals.push_back({{"t_us", s.t_us}, {"signal", harness::signal_name(s.signal)}, {"to", s.to}, {"purpose", std::string(harness::to_string(s.purpose))},
                           {"delivered", s.delivered}, {"why", s.why}});
    }
    return {
        {"scenario", v.scenario->name},
        {"file", v.scenario->file},
        {"description", v.scenario->description},
        {"repeat_index", v.repeat_index},
        {"seed", v.run.seed},
        {"run_dir", v.run.run_dir.string()},
        {"passed", v.passed()},
        {"error", v.error().empty() ? json(nullptr) : json(v.error())},
        {"skipped", v.run.skipped.empty() ? json(nullptr) : json(v.run.skipped)},
        {"checks", checks},
        {"exit", v.run.exit ? json{{"status", v.run.exit->describe()}, {"t_us", v.run.exit_us}} : json(nullptr)},
        {"signals", signals},
        {"requests", v.run.requests},
        {"outcomes", outcomes},
        {"duration_us", v.run.duration_us},
        {"proxy", v.run.proxied ? json(harness::proxy::describe(harness::proxy::summarize(v.run.proxy_records))) : json(nullptr)},
    };
}

} // namespace

std::string json_report(const RunVerdict& v) {
    auto j = run_json(v);
    j["version"] = report_json_version;
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json_suite_report(const std::vector<RunVerdict>& verdicts) {
    nlohmann::json runs = nlohmann::json::array();
    bool passed = true;
    for (const auto& v : verdicts) {
        runs.push_back(run_json(v));
        passed = passed && v.passed();
    }
    return nlohmann::json{{"version", report_json_version}, {"passed", passed}, {"runs", runs}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
}

} // namespace lastcall::reports
