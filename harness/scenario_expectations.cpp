// expect: of a scenario: the bounds the checks hold the run to.
#include "scenario_sections.hpp"

#include "signals.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::harness {

namespace {

Expectations::Exit read_exit(const YamlReader& r, const YAML::Node& node) {
    const auto text = r.string(node, "exit");
    if (const auto signal = parse_signal(text); signal && text.starts_with("SIG")) return {true, *signal};
    return {false, static_cast<int>(r.integer(node, "exit (a code, or a signal like SIGKILL)", ranges::exit_code))};
}

// `acked_writes_durable: true` or `{workload, read}`; nullopt workload when it is off.
void read_acked_writes(const YamlReader& r, const YAML::Node& value, const Scenario& s, Expectations& e) {
    std::string workload;
    if (value.IsMap()) {
        r.check_keys(value, "acked_writes_durable", {"workload", "read"});
        if (value["workload"]) workload = r.string(value["workload"], "acked_writes_durable.workload");
        if (value["read"]) e.acked_writes_read = read_request_path(r, value["read"], "acked_writes_durable.read");
    } else if (!r.boolean(value, "acked_writes_durable")) {
        return;
    }
    if (workload.empty()) {  // the workload that increments
        for (const auto& w : s.workloads) {
            if (w.request.path.find("/counter/incr") != std::string::npos) workload = w.name;
        }
    }
    const bool known = std::any_of(s.workloads.begin(), s.workloads.end(), [&](const Workload& w) { return w.name == workload; });
    if (!known) r.fail(value, "acked_writes_durable needs the workload that makes the writes (workload: NAME)");
    e.acked_writes_workload = workload;
}

} // namespace

Expectations read_expectations(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    r.expect_map(node, "expect");
    r.check_keys(node, "expect",
                 {"dropped", "idle_close_race", "errors", "streams_clean", "streams_resumed", "rejections_clean", "close_announced", "readiness_flip",
                  "accepting_during_drain_delay", "shutdown_time", "drain_tail", "exit", "orphans", "port_released", "fd_leak",
                  "acked_writes_durable", "jobs_accounted", "stuck_abandoned_within", "p99_during_drain", "shutdown_report"});
    Expectations e;
    const auto count = [&](const char* key, auto& out) {
        if (node[key]) out = static_cast<std::remove_reference_t<decltype(out)>>(r.integer(node[key], key, ranges::expected_count));
    };
    const auto flag = [&](const char* key, auto& out) {
        if (node[key]) out = r.boolean(node[key], key);
    };
    const auto bound = [&](const char* key, auto& out) {
        if (node[key]) out = r.duration(node[key], key, ranges::expectation);
    };
    count("dropped", e.dropped);
    count("errors", e.errors);
    count("orphans", e.orphans);
    count("fd_leak", e.fd_leak);
    if (node["idle_close_race"]) {
        e.idle_close_race = r.choice<Expectations::RacePolicy>(node["idle_close_race"], "idle_close_race",
                                                               {{"fail", Expectations::RacePolicy::fail},
                                                                {"tolerate", Expectations::RacePolicy::tolerate},
                                                                {"retried", Expectations::RacePolicy::retried}});
    }
    flag("streams_clean", e.streams_clean);
    flag("streams_resumed", e.streams_resumed);
    flag("rejections_clean", e.rejections_clean);
    flag("close_announced", e.close_announced);
    flag("port_released", e.port_released);
    flag("jobs_accounted", e.jobs_accounted);
    flag("shutdown_report", e.shutdown_report);
    bound("readiness_flip", e.readiness_flip);
    bound("accepting_during_drain_delay", e.accepting_during_drain_delay);
    bound("shutdown_time", e.shutdown_time);
    bound("drain_tail", e.drain_tail);
    bound("stuck_abandoned_within", e.stuck_abandoned_within);
    bound("p99_during_drain", e.p99_during_drain);
    if (node["exit"]) e.exit = read_exit(r, node["exit"]);
    if (node["acked_writes_durable"]) read_acked_writes(r, node["acked_writes_durable"], s, e);
    if (e.streams_resumed && std::none_of(s.workloads.begin(), s.workloads.end(), [](const Workload& w) { return w.stream_resume; })) {
        r.fail(node["streams_resumed"], "streams_resumed needs a stream workload with stream: {resume: true}");
    }
    return e;
}

} // namespace lastcall::harness
