#include "run_artifacts.hpp"

#include "checks.hpp"
#include "signals.hpp"

#include <fmt/format.h>

namespace lastcall::harness {

using nlohmann::json;

namespace {

// Bytes per request of a file, to one decimal; 0 without requests.
double per_request(std::uint64_t bytes, std::uint64_t requests) {
    return requests == 0 ? 0.0 : static_cast<double>(bytes * 10 / requests) / 10;
}

} // namespace

std::uint64_t history_jsonl_budget(const RunResult& run) {
    const auto not_ok = run.requests - run.outcomes[static_cast<std::size_t>(Outcome::ok)];
    const auto taken = run.history_bytes + not_ok * jsonl_room_per_request_not_ok;
    return run.history_limit > taken ? run.history_limit - taken : 0;
}

std::string history_jsonl_shortened(const RunResult& run) {
    if (run.history_jsonl_ok_left_out == 0) return {};
    return fmt::format("history.jsonl holds {} of the {} requests ({} bytes): every one not ok and those the checks quote; {} ok ones left out past "
                       "its budget of {} bytes (limits.history_bytes {} less the sorted history's {} and room for the requests not ok); {}",
                       run.history_jsonl_records, run.requests, run.history_jsonl_bytes, run.history_jsonl_ok_left_out, run.history_jsonl_budget, run.history_limit,
                       run.history_bytes,
                       // A new user read "every request" beside harness_errors' "part of it": past the
                       // sorted history's own cap the checks judged only what was recorded.
                       run.history_dropped == 0 ? std::string("the checks judged every request")
                                                : fmt::format("the checks judged the {} recorded requests, not the {} dropped past the limit (harness_errors)",
                                                              run.requests - run.history_dropped, run.history_dropped));
}

void write_run_artifacts(const RunDirectory& dir, const Scenario& scenario, RunResult& run, const std::vector<json>& events) {
    // Past its budget history.jsonl still holds what the checks quote: they are judged here once
    // for that (the same verdicts the caller gets: they read the sorted history, not this file).
    const auto quoted = [&scenario, &run] {
        std::unordered_set<std::uint64_t> ids;
        for (const auto& c : evaluate_checks(scenario, run)) ids.insert(c.evidence_requests.begin(), c.evidence_requests.end());
        return ids;
    };
    run.history_jsonl_budget = history_jsonl_budget(run);
    const auto exported =
        dir.write_history([&run](const RecordVisitor& visit) { return for_each_request(run, visit); }, run.workload_names, run.history_jsonl_budget, quoted);
    run.history_jsonl_bytes = exported.bytes;
    run.history_jsonl_records = exported.records;
    run.history_jsonl_ok_left_out = exported.ok_left_out;
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
    // What each open loop's schedule came to (workloads_ran judges it): never silently short of its rate.
    json open_loops = json::array();
    for (std::size_t i = 0; i < run.open_loops.size() && i < scenario.workloads.size(); ++i) {
        const auto& w = scenario.workloads[i];
        if (w.mode != LoadMode::open) continue;
        const auto& t = run.open_loops[i];
        open_loops.push_back({{"workload", w.name}, {"rate", w.rate}, {"scheduled_s", std::chrono::duration<double>(t.scheduled).count()},
                              {"due", t.due()}, {"started", t.started}, {"skipped", t.skipped}, {"never_started", t.behind}});
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
                                     {"open_loops", open_loops},
                                     {"history", {{"bytes", run.history_bytes}, {"limit", run.history_limit}, {"limit_lowered", run.history_limit_lowered},
                                                  {"dropped", run.history_dropped}, {"error", run.history_error},
                                                  {"bytes_per_request", per_request(run.history_bytes, run.requests)},
                                                  {"jsonl", {{"bytes", run.history_jsonl_bytes}, {"records", run.history_jsonl_records},
                                                             {"bytes_per_request", per_request(run.history_jsonl_bytes, run.history_jsonl_records)},
                                                             {"budget", run.history_jsonl_budget}, {"ok_left_out", run.history_jsonl_ok_left_out}}}}},
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
