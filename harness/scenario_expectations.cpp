// expect: of a scenario: the bounds the checks hold the run to.
#include "scenario_sections.hpp"

#include "signals.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace lastcall::harness {

namespace {

// A code (a number from 0 to 255) or a signal by name (TERM, SIGTERM, WINCH, RTMIN+1). A number is
// always an exit code: 143 is what a shell shows for a death by SIGTERM, and the exit check takes
// it so (128 + N); a signal is otherwise named.
Expectations::Exit read_one_exit(const YamlReader& r, const YAML::Node& node) {
    const auto text = r.string(node, "exit");
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) == 0) {
        if (const auto signal = parse_signal(text)) return {true, *signal};
        r.fail(node, fmt::format("exit '{}' is neither a code from 0 to 255 nor a signal name like TERM, SIGKILL or RTMIN+1", printable(text)));
    }
    return {false, static_cast<int>(r.integer(node, "exit (a code from 0 to 255, or a signal name like TERM or SIGKILL)", ranges::exit_code))};
}

// `exit: 0`, `exit: TERM`, `exit: [0, 143, SIGTERM]`: any of them passes.
std::vector<Expectations::Exit> read_exit(const YamlReader& r, const YAML::Node& node) {
    if (!node.IsSequence()) return {read_one_exit(r, node)};
    std::vector<Expectations::Exit> out;
    for (const auto& item : node) out.push_back(read_one_exit(r, item));
    if (out.empty()) r.fail(node, "exit needs at least one code or signal");
    return out;
}

// acked_writes: {workload, model, read: {path, pointer}, increment | element: {from, pointer}}
Expectations::AckedWrites read_acked_writes(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    using AckedWrites = Expectations::AckedWrites;
    r.expect_map(node, "acked_writes");
    // A key missing beside an unknown one was said as unknown (misspelt): what is there is still read.
    const bool keys_known = r.check_keys(node, "acked_writes", {"workload", "model", "read", "increment", "element"});
    for (const char* key : {"workload", "model", "read"}) {
        if (!node[key] && keys_known) {
            r.fail(node, fmt::format("acked_writes needs {} (acked_writes: {{workload: increments, model: counter, "
                                     "read: {{path: /state, pointer: /total}}}})",
                                     key));
        }
    }
    AckedWrites a;
    if (node["workload"]) {
        a.workload = r.string(node["workload"], "acked_writes.workload");
        if (!find_workload(s, a.workload)) r.fail(node["workload"], fmt::format("acked_writes.workload: no workload named '{}'", printable(a.workload)));
    }
    if (node["model"]) {
        a.model = r.choice<AckedWrites::Model>(node["model"], "acked_writes.model",
                                               {{"counter", AckedWrites::Model::counter}, {"set", AckedWrites::Model::set}});
    }
    if (const auto& read = node["read"]) {
        r.expect_map(read, "acked_writes.read");
        const bool read_keys_known = r.check_keys(read, "acked_writes.read", {"path", "pointer"});
        if ((!read["path"] || !read["pointer"]) && read_keys_known) {
            r.fail(read, "acked_writes.read needs path and pointer (read: {path: /state, pointer: /total})");
        }
        if (read["path"]) a.read_path = read_request_path(r, read["path"], "acked_writes.read.path");
        if (read["pointer"]) a.read_pointer = read_json_pointer(r, read["pointer"], "acked_writes.read.pointer");
    }
    if (!node["model"]) return a;  // said as unknown, misspelt: which of the model's keys go is not known
    if (a.model == AckedWrites::Model::counter) {
        if (node["element"]) r.fail(node["element"], "acked_writes.element is for model: set");
        if (node["increment"]) a.increment = r.integer(node["increment"], "acked_writes.increment", ranges::increment);
        return a;
    }
    if (node["increment"]) r.fail(node["increment"], "acked_writes.increment is for model: counter");
    const auto& element = node["element"];
    if (!element) {
        if (keys_known) r.fail(node, "acked_writes with model: set needs element (element: {from: reply, pointer: /id})");
        return a;
    }
    r.expect_map(element, "acked_writes.element");
    const bool element_keys_known = r.check_keys(element, "acked_writes.element", {"from", "pointer"});
    if ((!element["from"] || !element["pointer"]) && element_keys_known) {
        r.fail(element, "acked_writes.element needs from (reply or request) and pointer");
    }
    if (element["from"]) {
        a.element_from = r.choice<AckedWrites::ElementFrom>(element["from"], "acked_writes.element.from",
                                                             {{"reply", AckedWrites::ElementFrom::reply}, {"request", AckedWrites::ElementFrom::request}});
    }
    if (element["pointer"]) a.element_pointer = read_json_pointer(r, element["pointer"], "acked_writes.element.pointer");
    return a;
}

// The keys that name a check, and those that take nothing but `off` (they have no bound).
constexpr std::string_view check_keys_list[] = {
    "workloads_ran", "signals_delivered", "dropped", "idle_close_race", "errors", "streams_clean", "streams_resumed", "rejections_clean", "close_announced",
    "readiness_flip", "accepting_during_drain_delay", "shutdown_time", "drain_tail", "exit", "orphans", "port_released", "fd_leak",
    "acked_writes", "jobs_accounted", "stuck_abandoned_within", "p99_during_drain", "shutdown_report", "zero_downtime", "workers_drained"};

bool is_off(const YAML::Node& node) {
    return node.IsScalar() && (node.Scalar() == "off" || node.Scalar() == "Off" || node.Scalar() == "OFF");
}

} // namespace

Expectations read_expectations(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    r.expect_map(node, "expect");
    if (node["acked_writes_durable"]) {
        r.fail(node["acked_writes_durable"], "acked_writes_durable is now acked_writes: {workload: NAME, model: counter, "
                                             "read: {path: PATH, pointer: POINTER}} (see scenarios/README.md)");
    }
    // Its keys are independent: one unknown does not stop the others being read.
    r.attempt([&] {
        r.check_keys(node, "expect",
                     {"workloads_ran", "signals_delivered", "dropped", "idle_close_race", "errors", "streams_clean", "streams_resumed", "rejections_clean",
                      "close_announced", "readiness_flip", "accepting_during_drain_delay", "shutdown_time", "drain_tail", "exit", "orphans",
                      "port_released", "fd_leak", "acked_writes", "jobs_accounted", "stuck_abandoned_within", "p99_during_drain",
                      "shutdown_report", "zero_downtime", "workers_drained"});
    });
    Expectations e;
    // `off` turns any check off, the report says so. The rest of the key is then not read.
    for (const auto key : check_keys_list) {
        const std::string name(key);
        if (node[name] && is_off(node[name])) e.off.push_back(name == "acked_writes" ? "acked_writes_durable" : name);
    }
    const auto present = [&](const char* key) {
        return node[key] && !is_off(node[key]);
    };
    // Each key apart: its error is kept and the next one read (yaml_reader.hpp attempt()).
    for (const char* key : {"workloads_ran", "signals_delivered"}) {
        r.attempt([&] {
            if (present(key) && !r.boolean(node[key], key)) e.off.emplace_back(key);  // on by default; `true` changes nothing
        });
    }
    const auto count = [&](const char* key, auto& out) {
        if (present(key)) r.attempt([&] { out = static_cast<std::remove_reference_t<decltype(out)>>(r.integer(node[key], key, ranges::expected_count)); });
    };
    const auto flag = [&](const char* key, auto& out) {
        if (present(key)) r.attempt([&] { out = r.boolean(node[key], key); });
    };
    const auto bound = [&](const char* key, auto& out) {
        if (present(key)) r.attempt([&] { out = r.duration(node[key], key, ranges::expectation); });
    };
    count("dropped", e.dropped);
    count("errors", e.errors);
    count("orphans", e.orphans);
    count("fd_leak", e.fd_leak);
    if (present("idle_close_race")) {
        r.attempt([&] {
            e.idle_close_race = r.choice<Expectations::RacePolicy>(node["idle_close_race"], "idle_close_race",
                                                                   {{"fail", Expectations::RacePolicy::fail},
                                                                    {"tolerate", Expectations::RacePolicy::tolerate},
                                                                    {"retried", Expectations::RacePolicy::retried}});
        });
    }
    flag("streams_clean", e.streams_clean);
    flag("streams_resumed", e.streams_resumed);
    flag("rejections_clean", e.rejections_clean);
    flag("close_announced", e.close_announced);
    flag("port_released", e.port_released);
    flag("jobs_accounted", e.jobs_accounted);
    flag("shutdown_report", e.shutdown_report);
    if (node["readiness_flip"] && is_off(node["readiness_flip"])) e.readiness_flip.reset();
    bound("readiness_flip", e.readiness_flip);
    bound("accepting_during_drain_delay", e.accepting_during_drain_delay);
    bound("shutdown_time", e.shutdown_time);
    bound("drain_tail", e.drain_tail);
    bound("stuck_abandoned_within", e.stuck_abandoned_within);
    bound("p99_during_drain", e.p99_during_drain);
    if (present("exit")) r.attempt([&] { e.exit = read_exit(r, node["exit"]); });
    if (present("acked_writes")) r.attempt([&] { e.acked_writes = read_acked_writes(r, node["acked_writes"], s); });
    if (present("zero_downtime")) r.attempt([&] { e.zero_downtime = read_zero_downtime(r, node["zero_downtime"]); });
    if (present("workers_drained")) r.attempt([&] { e.workers_drained = read_workers_drained(r, node["workers_drained"]); });
    if (e.jobs_accounted) {
        const bool any = std::any_of(s.workloads.begin(), s.workloads.end(), [](const Workload& w) { return w.job.has_value(); });
        if (!any) r.fail(node["jobs_accounted"], "jobs_accounted needs a job workload with job: {id, poll, done} (how to find and poll its jobs)");
    }
    if (e.streams_resumed && std::none_of(s.workloads.begin(), s.workloads.end(), [](const Workload& w) { return w.stream.resume; })) {
        r.fail(node["streams_resumed"], "streams_resumed needs a stream workload with stream: {resume: true}");
    }
    return e;
}

} // namespace lastcall::harness
