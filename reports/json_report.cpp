// report.json: a run's verdict, everything in it, machine-readable and versioned (reports/README.md).
#include "report_time.hpp"
#include "reports.hpp"
#include "signals.hpp"

#include "scenario_loader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace lastcall::reports {

namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& n) { return n ? json(*n) : json(nullptr); }

// The numbers behind a check's strings (null where it judges none): `bound` and `measured` stay the
// display strings version 1 always had.
void add_numbers(json& check, const std::optional<harness::CheckNumbers>& numbers) {
    const harness::CheckNumbers none;
    const auto& n = numbers ? *numbers : none;
    check["value"] = optional_number(n.value);
    check["bound_value"] = optional_number(n.bound);
    check["bound_upper"] = optional_number(n.bound_upper);
    check["unit"] = n.unit.empty() ? json(nullptr) : json(n.unit);
    check["comparison"] = n.comparison.empty() ? json(nullptr) : json(n.comparison);
}

// When a failed check's failure shows (µs since the load started, as every t_us), for a consumer
// that lines failures up with the signals and the exit; null for a check that passed or was
// skipped, and for one that judged the run as a whole.
json failure_moment(const harness::CheckResult& c) {
    return c.status == harness::CheckStatus::fail && c.at_us >= 0 ? json(c.at_us) : json(nullptr);
}

json time_or_null(std::int64_t unix_us) { return unix_us > 0 ? json(rfc3339_utc(unix_us)) : json(nullptr); }

// The argv as spawned; before a spawn (the run directory could not be made), the scenario's own.
json target_command(const RunVerdict& v) {
    return v.run.target_command.empty() ? json(v.scenario->target.command) : json(v.run.target_command);
}

// Requests answered ok, from their intended start (coordinated omission is not hidden), in ms.
json latency_json(const harness::Histogram& h) {
    const auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    if (h.count() == 0) return json{{"count", 0}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"p999", nullptr}, {"max", nullptr}, {"mean", nullptr}};
    return json{{"count", h.count()}, {"p50", ms(h.percentile(50))}, {"p90", ms(h.percentile(90))}, {"p99", ms(h.percentile(99))},
                {"p999", ms(h.percentile(99.9))}, {"max", ms(h.max())}, {"mean", h.mean() / 1e6}};
}

// Where `latency_ms` is measured from: a closed loop's intended start is its send (decided when
// the last response came back, read again after a connect); an open loop's is its schedule, so
// the wait behind a slow response counts. "mixed" when the scenario has both; null without
// workloads (or a run re-rendered from a verdict.json kept before their modes were).
json latency_measured_from(const harness::Scenario& s) {
    if (s.workloads.empty()) return nullptr;
    const auto open = std::count_if(s.workloads.begin(), s.workloads.end(), [](const harness::Workload& w) { return w.mode == harness::LoadMode::open; });
    if (open == 0) return "send";
    return static_cast<std::size_t>(open) == s.workloads.size() ? "intended_start" : "mixed";
}

json run_json(const RunVerdict& v) {
    json checks = json::array();
    for (const auto& c : v.checks) {
        json check{{"name", c.name}, {"status", harness::to_string(c.status)}, {"bound", c.bound}, {"measured", c.measured},
                   {"message", c.message}, {"evidence", c.evidence}};
        add_numbers(check, c.numbers);
        check["at_us"] = failure_moment(c);
        checks.push_back(std::move(check));
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
        {"scenario_sha256", v.scenario->sha256},
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
        {"lastcall_version", LASTCALL_VERSION},
        {"began_at", time_or_null(v.run.began_unix_us)},
        {"load_started_at", time_or_null(v.run.run_start_unix_us)},
        {"target_command", target_command(v)},
        {"latency_ms", [&] {
             auto latency = latency_json(v.run.latency);
             latency["measured_from"] = latency_measured_from(*v.scenario);
             return latency;
         }()},
    };
}

} // namespace

std::string json_report(const RunVerdict& v) {
    auto j = run_json(v);
    j["version"] = report_json_version;
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string json_suite_report(const std::vector<RunVerdict>& verdicts) {
    json runs = json::array();
    bool passed = true;
    std::int64_t began = 0;  // the first run's beginning
    for (const auto& v : verdicts) {
        runs.push_back(run_json(v));
        passed = passed && v.passed();
        if (v.run.began_unix_us > 0 && (began == 0 || v.run.began_unix_us < began)) began = v.run.began_unix_us;
    }
    const json suite{{"version", report_json_version}, {"lastcall_version", LASTCALL_VERSION}, {"began_at", time_or_null(began)},
                     {"passed", passed}, {"runs", runs}};
    return suite.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace lastcall::reports
