// verdict.json written, and a run directory read back into a RunVerdict for the report writers.
// Reading is at the edge: every file and field is checked for its type, and what is wrong is
// named with the file (and its line, for the .jsonl files), never an exception from the parser.
#include "run_record.hpp"

#include "run_record_fields.hpp"
#include "run_record_requests.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace lastcall::reports {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace lastcall::harness;
using namespace record;

constexpr int run_json_version = 2;  // harness/run_artifacts.cpp writes it

json optional_number(const std::optional<double>& n) { return n ? json(*n) : json(nullptr); }

json check_json(const CheckResult& c) {
    json numbers = nullptr;
    if (c.numbers) {
        numbers = {{"value", optional_number(c.numbers->value)}, {"bound", optional_number(c.numbers->bound)},
                   {"bound_upper", optional_number(c.numbers->bound_upper)}, {"unit", c.numbers->unit}, {"comparison", c.numbers->comparison}};
    }
    return {{"name", c.name},     {"status", std::string(to_string(c.status))}, {"bound", c.bound}, {"measured", c.measured},
            {"message", c.message}, {"evidence", c.evidence}, {"numbers", numbers}, {"at_us", c.at_us}};
}

// The run's own latency histogram (ok requests, from the intended start, in ns): a re-rendered
// report.json shows the run's figures, not figures recomputed from a history.jsonl that past its
// budget (or past limits.history_bytes) holds only part of the requests.
json latency_json(const Histogram& h) {
    const auto saved = h.save();
    json buckets = json::array();
    for (const auto& [index, count] : saved.buckets) buckets.push_back({index, count});
    return {{"buckets", buckets}, {"sum_ns", saved.sum}, {"min_ns", saved.min}, {"max_ns", saved.max}};
}

Histogram read_latency(const json& j, const Source& at) {
    Histogram::Saved saved;
    saved.sum = field<std::uint64_t>(j, "sum_ns", at);
    saved.min = field<std::uint64_t>(j, "min_ns", at);
    saved.max = field<std::uint64_t>(j, "max_ns", at);
    const auto buckets = field<json>(j, "buckets", at);
    if (!buckets.is_array()) at.fail("'latency.buckets' is not a list");
    for (const auto& b : buckets) {
        if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned()) {
            at.fail("a 'latency.buckets' entry is not [index, count]");
        }
        saved.buckets.emplace_back(b[0].get<std::size_t>(), b[1].get<std::uint64_t>());
    }
    auto h = Histogram::restore(saved);
    if (!h) at.fail("'latency.buckets' holds an index out of range or a count of 0");
    return *h;
}

// "exit 3", "killed by SIGKILL": TargetExit::describe() read back.
std::optional<TargetExit> exit_described(const json& value, const Source& at) {
    if (value.is_null()) return std::nullopt;
    if (!value.is_string()) at.fail("an exit status is not a string");
    const auto text = value.get<std::string>();
    if (text.starts_with("exit ")) {
        try {
            return TargetExit{true, std::stoi(text.substr(5)), 0};
        } catch (const std::exception&) {
        }
    } else if (text.starts_with("killed by ")) {
        if (const auto signal = parse_signal(text.substr(10))) return TargetExit{false, 0, *signal};
    }
    at.fail(fmt::format("'{}' is not an exit status", text));
}

json read_json(const fs::path& file) {
    std::ifstream in(file);
    if (!in) fail(file, fmt::format("cannot be read ({})", std::strerror(errno)));
    const auto value = json::parse(in, nullptr, false);
    if (value.is_discarded()) fail(file, "not JSON (corrupt or cut short)");
    if (!value.is_object()) fail(file, "not a JSON object");
    return value;
}

CheckResult read_check(const json& c, const Source& at) {
    CheckResult out;
    out.name = field<std::string>(c, "name", at);
    out.status = named(field<std::string>(c, "status", at), CheckStatus::skip, at, "check status");
    out.bound = field<std::string>(c, "bound", at);
    out.measured = field<std::string>(c, "measured", at);
    out.message = field<std::string>(c, "message", at);
    out.evidence = strings(c, "evidence", at);
    out.at_us = field<std::int64_t>(c, "at_us", at);
    const auto numbers = field<json>(c, "numbers", at);
    if (!numbers.is_null()) {
        out.numbers = CheckNumbers{optional_field(numbers, "value", at), optional_field(numbers, "bound", at), optional_field(numbers, "bound_upper", at),
                                   field<std::string>(numbers, "unit", at), field<std::string>(numbers, "comparison", at)};
    }
    return out;
}

json workload_modes(const Scenario& s) {
    json modes = json::array();
    for (const auto& w : s.workloads) modes.push_back(w.mode == harness::LoadMode::open ? "open" : "closed");
    return modes;
}

// verdict.json: the scenario's names, the spawn, the exit and the checks.
void read_verdict(const fs::path& file, RecordedRun& out) {
    const auto v = read_json(file);
    const Source at{file};
    if (field<int>(v, "version", at) != verdict_file_version) at.fail(fmt::format("version {} (this lastcall reads {})", v["version"].dump(), verdict_file_version));
    const auto s = field<json>(v, "scenario", at);
    out.scenario->name = field<std::string>(s, "name", at);
    out.scenario->file = field<std::string>(s, "file", at);
    if (s.contains("sha256")) out.scenario->sha256 = field<std::string>(s, "sha256", at);  // absent from runs recorded before it was kept
    out.scenario->description = field<std::string>(s, "description", at);
    out.scenario->target.command = strings(s, "command", at);
    out.scenario->repeat = field<int>(s, "repeat", at);
    // Each workload's mode, for where report.json's latency is measured from; absent from runs
    // recorded before it was kept (their report then says null).
    if (s.contains("workload_modes")) {
        for (const auto& mode : strings(s, "workload_modes", at)) {
            if (mode != "open" && mode != "closed") at.fail(fmt::format("scenario.workload_modes: \"{}\" is neither open nor closed", mode));
            out.scenario->workloads.emplace_back().mode = mode == "open" ? harness::LoadMode::open : harness::LoadMode::closed;
        }
    }
    auto& verdict = out.verdict;
    auto& run = verdict.run;
    verdict.repeat_index = field<int>(v, "repeat_index", at);
    run.run_dir = field<std::string>(v, "run_dir", at);
    run.began_unix_us = field<std::int64_t>(v, "began_unix_us", at);
    run.run_start_unix_us = field<std::int64_t>(v, "load_started_unix_us", at);
    run.target_command = strings(v, "target_command", at);
    run.workload_names = strings(v, "workload_names", at);
    const auto exit = field<json>(v, "exit", at);
    if (!exit.is_null()) run.exit = TargetExit{field<bool>(exit, "exited", at), field<int>(exit, "code", at), field<int>(exit, "signal", at)};
    run.exit_us = field<std::int64_t>(v, "exit_us", at);
    // Absent from verdicts kept before it was: then recomputed from history.jsonl (read_history).
    if (v.contains("latency")) {
        run.latency = read_latency(field<json>(v, "latency", at), at);
        out.latency_kept = true;
    }
    const auto checks = field<json>(v, "checks", at);
    if (!checks.is_array()) at.fail("'checks' is not a list");
    for (const auto& c : checks) verdict.checks.push_back(read_check(c, at));
}

// Which process a signal went to, from run.json's `to` ("target", "group", "worker 2 (pid 42)"):
// only whether it is the main process or its group matters to the reports (the run's signal moment).
SignalTarget target_named(const std::string& to) {
    if (to == "group") return SignalTarget::group;
    if (to == "target" || to == "master") return SignalTarget::main;
    return SignalTarget::workers;
}

void read_run_json(const fs::path& file, RecordedRun& out) {
    const auto j = read_json(file);
    const Source at{file};
    if (field<int>(j, "version", at) != run_json_version) at.fail(fmt::format("version {} (this lastcall reads {})", j["version"].dump(), run_json_version));
    auto& run = out.verdict.run;
    run.seed = field<std::uint64_t>(j, "seed", at);
    run.port = field<std::uint16_t>(j, "port", at);
    run.start_error = field<std::string>(j, "start_error", at);
    run.skipped = field<std::string>(j, "skipped", at);
    run.restart_error = field<std::string>(j, "restart_error", at);
    run.containment = field<std::string>(j, "containment", at);
    run.judged_generation = field<int>(j, "judged_generation", at);
    run.process_events = field<std::string>(j, "process_events", at);
    run.requests = field<std::uint64_t>(j, "requests", at);
    run.harness_errors = field<std::uint64_t>(j, "harness_errors", at);
    run.port_released = field<bool>(j, "port_released", at);
    run.limit_reached = field<bool>(j, "limit_reached", at);
    run.interrupted = field<bool>(j, "interrupted", at);
    run.duration_us = field<std::int64_t>(j, "duration_us", at);
    const auto history = field<json>(j, "history", at);
    run.history_bytes = field<std::uint64_t>(history, "bytes", at);
    run.history_limit = field<std::uint64_t>(history, "limit", at);
    run.history_limit_lowered = field<std::string>(history, "limit_lowered", at);
    run.history_dropped = field<std::uint64_t>(history, "dropped", at);
    run.history_error = field<std::string>(history, "error", at);
    const auto jsonl = field_or<json>(history, "jsonl", json::object(), at);  // absent from an older run.json
    run.history_jsonl_bytes = field_or<std::uint64_t>(jsonl, "bytes", 0, at);
    run.history_jsonl_records = field_or<std::uint64_t>(jsonl, "records", 0, at);
    run.history_jsonl_budget = field_or<std::uint64_t>(jsonl, "budget", 0, at);
    run.history_jsonl_ok_left_out = field_or<std::uint64_t>(jsonl, "ok_left_out", 0, at);
    const auto outcomes = field<json>(j, "outcomes", at);
    for (int i = 0; i < outcome_count; ++i) {
        run.outcomes[static_cast<std::size_t>(i)] = field<std::uint64_t>(outcomes, std::string(to_string(static_cast<Outcome>(i))).c_str(), at);
    }
    for (const auto& s : field<json>(j, "signals", at)) {
        SignalSent sent;
        sent.t_us = field<std::int64_t>(s, "t_us", at);
        const auto name = field<std::string>(s, "signal", at);
        const auto number = parse_signal(name);
        if (!number) at.fail(fmt::format("unknown signal '{}'", name));
        sent.signal = *number;
        sent.to = field<std::string>(s, "to", at);
        sent.target = target_named(sent.to);
        sent.generation = field<int>(s, "generation", at);
        sent.purpose = named(field<std::string>(s, "purpose", at), SignalPurpose::process, at, "signal purpose");
        sent.pids = field<std::vector<pid_t>>(s, "pids", at);
        sent.delivered = field<bool>(s, "delivered", at);
        sent.why = field<std::string>(s, "why", at);
        run.signals.push_back(std::move(sent));
    }
    for (const auto& g : field<json>(j, "generations", at)) {
        GenerationSummary summary;
        summary.number = field<int>(g, "generation", at);
        summary.pid = field<pid_t>(g, "pid", at);
        summary.spawn_us = field<std::int64_t>(g, "spawn_us", at);
        summary.ready_us = field<std::int64_t>(g, "ready_us", at);
        summary.exit_us = field<std::int64_t>(g, "exit_us", at);
        summary.exit = exit_described(field<json>(g, "exit", at), at);
        summary.killed_by_lastcall = field<bool>(g, "killed_by_lastcall", at);
        const auto state = field<std::string>(g, "shutdown_report", at);
        summary.report.state = named(state, TargetReportReading::State::ok, at, "shutdown report state");
        summary.report.detail = field<std::string>(g, "shutdown_report_detail", at);
        run.generations.push_back(std::move(summary));
    }
    for (const auto& p : field<json>(j, "processes", at)) {
        ProcessLife life;
        life.pid = field<pid_t>(p, "pid", at);
        life.parent = field<pid_t>(p, "parent", at);
        life.generation = field<int>(p, "generation", at);
        life.command = field<std::string>(p, "command", at);
        life.spawn_us = field<std::int64_t>(p, "spawn_us", at);
        life.first_seen_us = field<std::int64_t>(p, "first_seen_us", at);
        life.last_seen_us = field<std::int64_t>(p, "last_seen_us", at);
        life.gone_us = field<std::int64_t>(p, "gone_us", at);
        life.exit_us = field<std::int64_t>(p, "exit_us", at);
        life.exit = exit_described(field<json>(p, "exit", at), at);
        run.processes.push_back(std::move(life));
    }
}

// history.jsonl read once, a line at a time, into a sorted history on disk like the run's own
// (harness/run_history.hpp: the lines are in intended-start order already and the sort is stable,
// so the order stays), which the reports then read by streaming passes, as the run's own report
// did: memory stays bounded whatever the run's length. Also the latency of its ok requests, as the
// load generator recorded it (from the intended start, in ns). The file goes in the run directory
// (unlinked: it takes space only while lastcall report runs), else where the system keeps
// temporary files (a run directory that cannot be written).
std::shared_ptr<const RunHistory> read_history(const fs::path& dir, RunResult& run, bool latency_kept) {
    const auto source = [&](const RecordVisitor& visit) {
        read_lines(dir / "history.jsonl", [&](const json& line, const Source& at) {
            const auto r = read_request(line, at, run.workload_names);
            if (!latency_kept && r.outcome == Outcome::ok) run.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - r.intended_us)) * 1000);
            visit(r);
        });
        return true;
    };
    const auto as_read = [](RequestRecord&) {};
    try {
        return RunHistory::sort(dir, source, as_read);
    } catch (const RunRecordError&) {
        throw;
    } catch (const std::runtime_error&) {
        if (!latency_kept) run.latency = Histogram{};  // read again from the start
        return RunHistory::sort(fs::temp_directory_path(), source, as_read);
    }
}

// The per-request files: the history, the /proc samples, readiness, the proxy's records.
void read_request_files(const fs::path& dir, RecordedRun& out) {
    auto& run = out.verdict.run;
    run.recorded = read_history(dir, run, out.latency_kept);
    // latency_ms is the run's own (verdict.json) unless an older lastcall kept no latency.
    const auto latency = out.latency_kept ? std::string{} : std::string("latency_ms (recomputed: verdict.json keeps none) and ");
    if (run.history_dropped > 0 && !out.latency_kept) {
        out.notes.push_back(fmt::format("latency_ms covers the {} requests history.jsonl kept, not the {} dropped past limits.history_bytes",
                                        run.recorded->size(), run.history_dropped));
    }
    if (run.history_jsonl_ok_left_out > 0) {
        out.notes.push_back(fmt::format("{}the page's requests cover the {} requests history.jsonl kept, not the {} ok ones it left out "
                                        "past its budget (the checks, as the run judged them, covered {})",
                                        latency, run.recorded->size(), run.history_jsonl_ok_left_out,
                                        run.history_dropped == 0 ? std::string("every request") : "every recorded request, not those dropped"));
    }
    read_lines(dir / "samples.jsonl", [&](const json& line, const Source& at) {
        run.samples.push_back({field<std::int64_t>(line, "t_us", at), field<int>(line, "fds", at), field<long>(line, "threads", at),
                               field<int>(line, "descendants", at), field<long>(line, "rss_kib", at), field<int>(line, "disk_waiting", at),
                               line.value("accept_queue", -1)});  // absent in runs recorded before it was sampled
    });
    read_lines(dir / "events.jsonl", [&](const json& line, const Source& at) {
        if (line.value("type", "") != "readiness") return;
        run.readiness.push_back({field<std::int64_t>(line, "t_us", at), field<bool>(line, "ready", at), field<int>(line, "status", at)});
    });
    run.proxied = fs::exists(dir / "proxy.jsonl");
    read_lines(dir / "proxy.jsonl", [&](const json& line, const Source& at) { run.proxy_records.push_back(read_proxy_record(line, at)); });
}

// The judged generation's shutdown report, as the run kept it (its phases and workers are drawn).
void read_shutdown_report(const fs::path& dir, RecordedRun& out) {
    auto& run = out.verdict.run;
    for (const auto& g : run.generations) {
        if (g.number != run.judged_generation) continue;
        run.report.state = g.report.state;
        run.report.detail = g.report.detail;
        if (g.report.state != TargetReportReading::State::ok) return;
        const auto file = dir / fmt::format("shutdown-report-{}.json", g.number);
        std::ifstream in(file);
        if (!in) fail(file, fmt::format("cannot be read ({}), though run.json says the target wrote it", std::strerror(errno)));
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        auto parsed = parse_target_report(text);
        if (!parsed.report) fail(file, parsed.error);
        run.report.copy = file;
        run.report.report = std::move(parsed.report);
    }
}

} // namespace

void keep_verdict(const RunVerdict& v) {
    if (v.run.run_dir.empty()) return;
    json checks = json::array();
    for (const auto& c : v.checks) checks.push_back(check_json(c));
    const auto& run = v.run;
    const json verdict{
        {"version", verdict_file_version},
        {"scenario", {{"name", v.scenario->name}, {"file", v.scenario->file}, {"sha256", v.scenario->sha256}, {"description", v.scenario->description},
                      {"command", v.scenario->target.command}, {"repeat", v.scenario->repeat}, {"workload_modes", workload_modes(*v.scenario)}}},
        {"repeat_index", v.repeat_index},
        {"run_dir", run.run_dir.string()},
        {"began_unix_us", run.began_unix_us},
        {"load_started_unix_us", run.run_start_unix_us},
        {"target_command", run.target_command},
        {"workload_names", run.workload_names},
        {"exit", run.exit ? json{{"exited", run.exit->exited}, {"code", run.exit->code}, {"signal", run.exit->signal}} : json(nullptr)},
        {"exit_us", run.exit_us},
        {"latency", latency_json(run.latency)},
        {"checks", checks},
    };
    std::ofstream(run.run_dir / "verdict.json") << verdict.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

RecordedRun read_run_directory(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) fail(dir, ec ? ec.message() : fs::exists(dir) ? "not a directory" : "no such directory");
    if (!fs::exists(dir / "run.json")) fail(dir, "not a run directory (no run.json)");
    if (!fs::exists(dir / "verdict.json")) {
        fail(dir / "verdict.json", "missing: the run ended before its checks were judged, or an older lastcall made it (it kept no verdict)");
    }
    RecordedRun out;
    out.scenario = std::make_unique<Scenario>();
    out.verdict.scenario = out.scenario.get();
    read_verdict(dir / "verdict.json", out);
    read_run_json(dir / "run.json", out);
    read_request_files(dir, out);
    read_shutdown_report(dir, out);
    return out;
}

} // namespace lastcall::reports
