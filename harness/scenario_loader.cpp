#include "scenario_loader.hpp"

#include "signals.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

namespace lastcall::harness {

namespace {

// Reads one scenario file; every check throws ScenarioError at the offending node.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        const auto mark = node.Mark();
        throw ScenarioError(file_, mark.line + 1, mark.column + 1, message);
    }

    void expect_map(const YAML::Node& node, std::string_view what) const {
        if (!node.IsMap()) fail(node, fmt::format("{} must be a mapping", what));
    }

    // Unknown keys are errors, with the closest allowed key as a hint.
    void check_keys(const YAML::Node& map, std::string_view what, const std::vector<std::string>& allowed) const {
        for (auto it = map.begin(); it != map.end(); ++it) {
            const auto key = it->first.as<std::string>();
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            std::string message = fmt::format("unknown key '{}' in {}", key, what);
            if (const auto near = nearest(key, allowed); !near.empty()) message += fmt::format(" (did you mean '{}'?)", near);
            fail(it->first, message);
        }
    }

    std::string string(const YAML::Node& node, std::string_view what) const {
        if (!node.IsScalar()) fail(node, fmt::format("{} must be a string", what));
        return node.as<std::string>();
    }

    std::int64_t integer(const YAML::Node& node, std::string_view what, std::int64_t min, std::int64_t max) const {
        std::int64_t value = 0;
        if (!node.IsScalar() || !YAML::convert<std::int64_t>::decode(node, value) || value < min || value > max) {
            fail(node, fmt::format("{} must be a whole number from {} to {}", what, min, max));
        }
        return value;
    }

    bool boolean(const YAML::Node& node, std::string_view what) const {
        bool value = false;
        if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) fail(node, fmt::format("{} must be true or false", what));
        return value;
    }

    Duration duration(const YAML::Node& node, std::string_view what) const {
        const auto parsed = node.IsScalar() ? parse_duration(node.as<std::string>()) : std::nullopt;
        if (!parsed) fail(node, fmt::format("{} must be a duration like 250ms, 3s or 1m", what));
        return *parsed;
    }

    int signal(const YAML::Node& node) const {
        const auto parsed = node.IsScalar() ? parse_signal(node.as<std::string>()) : std::nullopt;
        if (!parsed) {
            fail(node, fmt::format("unknown signal '{}' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number)",
                                   node.IsScalar() ? node.as<std::string>() : "?"));
        }
        return *parsed;
    }

    std::vector<std::string> string_list(const YAML::Node& node, std::string_view what) const {
        if (!node.IsSequence()) fail(node, fmt::format("{} must be a list of strings", what));
        std::vector<std::string> out;
        for (const auto& item : node) out.push_back(string(item, what));
        return out;
    }

    std::map<std::string, std::string> string_map(const YAML::Node& node, std::string_view what) const {
        expect_map(node, what);
        std::map<std::string, std::string> out;
        for (auto it = node.begin(); it != node.end(); ++it) out[it->first.as<std::string>()] = string(it->second, what);
        return out;
    }

private:
    static std::size_t edit_distance(std::string_view a, std::string_view b) {
        std::vector<std::size_t> row(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i) {
            std::size_t diagonal = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j) {
                const auto above = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
                diagonal = above;
            }
        }
        return row[b.size()];
    }
    static std::string nearest(const std::string& key, const std::vector<std::string>& allowed) {
        std::string best;
        std::size_t best_distance = 3;  // farther than this is no hint
        for (const auto& candidate : allowed) {
            if (const auto d = edit_distance(key, candidate); d < best_distance) {
                best = candidate;
                best_distance = d;
            }
        }
        return best;
    }

    std::string file_;
};

ReadyCheck read_ready(const Reader& r, const YAML::Node& node) {
    r.expect_map(node, "target.ready");
    r.check_keys(node, "target.ready", {"http", "tcp", "timeout"});
    ReadyCheck ready;
    if (node["http"]) ready.http_path = r.string(node["http"], "target.ready.http");
    if (node["http"] && node["tcp"]) r.fail(node, "target.ready takes either http or tcp, not both");
    if (node["tcp"] && !r.boolean(node["tcp"], "target.ready.tcp")) r.fail(node["tcp"], "target.ready.tcp must be true");
    if (node["timeout"]) ready.timeout = r.duration(node["timeout"], "target.ready.timeout");
    return ready;
}

Target read_target(const Reader& r, const YAML::Node& node) {
    r.expect_map(node, "target");
    r.check_keys(node, "target", {"command", "env", "cwd", "host", "port", "allow_remote", "ready", "shutdown_report"});
    Target target;
    if (!node["command"]) r.fail(node, "target needs a command (an argv list)");
    target.command = r.string_list(node["command"], "target.command");
    if (target.command.empty()) r.fail(node["command"], "target.command must not be empty");
    if (node["env"]) target.env = r.string_map(node["env"], "target.env");
    if (node["cwd"]) target.cwd = r.string(node["cwd"], "target.cwd");
    if (node["host"]) target.host = r.string(node["host"], "target.host");
    if (node["allow_remote"]) target.allow_remote = r.boolean(node["allow_remote"], "target.allow_remote");
    if (node["port"] && !(node["port"].IsScalar() && node["port"].as<std::string>() == "auto")) {
        target.port = static_cast<std::uint16_t>(r.integer(node["port"], "target.port", 1, 65535));
    }
    if (node["ready"]) target.ready = read_ready(r, node["ready"]);
    if (node["shutdown_report"]) target.shutdown_report = r.string(node["shutdown_report"], "target.shutdown_report");
    return target;
}

HttpRequest read_request(const Reader& r, const YAML::Node& node) {
    r.expect_map(node, "request");
    r.check_keys(node, "request", {"method", "path", "headers", "body"});
    HttpRequest request;
    if (node["method"]) request.method = r.string(node["method"], "request.method");
    if (node["path"]) request.path = r.string(node["path"], "request.path");
    if (request.path.empty() || request.path.front() != '/') r.fail(node["path"] ? node["path"] : node, "request.path must start with /");
    if (node["headers"]) request.headers = r.string_map(node["headers"], "request.headers");
    if (node["body"]) request.body = r.string(node["body"], "request.body");
    return request;
}

Workload read_workload(const Reader& r, const YAML::Node& node) {
    r.expect_map(node, "a workload");
    r.check_keys(node, "a workload", {"name", "kind", "request", "mode", "connections", "think", "rate", "start", "stop",
                                      "keep_alive", "timeout", "client_retry", "max_requests"});
    Workload w;
    if (!node["name"]) r.fail(node, "a workload needs a name");
    w.name = r.string(node["name"], "workload name");
    if (node["kind"]) {
        const auto kind = r.string(node["kind"], "kind");
        if (kind == "request") w.kind = WorkloadKind::request;
        else if (kind == "stream") w.kind = WorkloadKind::stream;
        else if (kind == "job") w.kind = WorkloadKind::job;
        else if (kind == "slowloris") w.kind = WorkloadKind::slowloris;
        else r.fail(node["kind"], fmt::format("unknown kind '{}' (expected request, stream, job or slowloris)", kind));
    }
    if (w.kind == WorkloadKind::job) w.request.method = "POST";
    if (node["request"]) {
        const auto default_method = w.request.method;
        w.request = read_request(r, node["request"]);
        if (!node["request"]["method"]) w.request.method = default_method;
    }
    if (node["mode"]) {
        const auto mode = r.string(node["mode"], "mode");
        if (mode == "closed") w.mode = LoadMode::closed;
        else if (mode == "open") w.mode = LoadMode::open;
        else r.fail(node["mode"], fmt::format("unknown mode '{}' (expected closed or open)", mode));
    }
    if (node["connections"]) w.connections = static_cast<int>(r.integer(node["connections"], "connections", 1, 100000));
    if (node["think"]) w.think = r.duration(node["think"], "think");
    if (node["rate"]) {
        const auto parsed = node["rate"].IsScalar() ? parse_rate(node["rate"].as<std::string>()) : std::nullopt;
        if (!parsed) r.fail(node["rate"], "rate must look like 200/s, 30/m or 1/h");
        w.rate = *parsed;
    }
    if (w.mode == LoadMode::open && w.rate <= 0) r.fail(node, fmt::format("open-loop workload '{}' needs a rate", w.name));
    if (w.mode == LoadMode::closed && node["rate"]) r.fail(node["rate"], "rate is for mode: open (closed loops use connections)");
    if (node["start"]) w.start = r.duration(node["start"], "start");
    if (node["stop"]) w.stop = r.duration(node["stop"], "stop");
    if (node["keep_alive"]) w.keep_alive = r.boolean(node["keep_alive"], "keep_alive");
    if (node["timeout"]) w.timeout = r.duration(node["timeout"], "timeout");
    if (node["client_retry"]) {
        const auto retry = r.string(node["client_retry"], "client_retry");
        if (retry == "none") w.client_retry = ClientRetry::none;
        else if (retry == "idempotent") w.client_retry = ClientRetry::idempotent;
        else r.fail(node["client_retry"], fmt::format("unknown client_retry '{}' (expected none or idempotent)", retry));
    }
    if (node["max_requests"]) w.max_requests = static_cast<std::uint64_t>(r.integer(node["max_requests"], "max_requests", 1, 100'000'000));
    return w;
}

Condition read_condition(const Reader& r, const YAML::Node& node) {
    const auto text = r.string(node, "when");
    std::istringstream in(text);
    std::string subject, op;
    std::int64_t number = 0;
    in >> subject;
    if (subject == "not_ready") return Condition{Condition::Kind::not_ready, 0};
    if (subject == "exited") return Condition{Condition::Kind::exited, 0};
    if (subject == "signal_sent") return Condition{Condition::Kind::after_signal, 0};
    if (subject == "in_flight" && (in >> op >> number) && op == ">=" && in.eof() && number >= 0) {
        return Condition{Condition::Kind::in_flight_at_least, number};
    }
    r.fail(node, fmt::format("unknown condition '{}' (expected 'in_flight >= N', not_ready, exited or signal_sent)", text));
}

TimelineEntry read_timeline_entry(const Reader& r, const YAML::Node& node, const std::set<std::string>& workloads) {
    r.expect_map(node, "a timeline entry");
    r.check_keys(node, "a timeline entry", {"at", "when", "delay", "signal", "to", "stop_load", "start_load", "pause",
                                            "kill_if_alive", "restart_target"});
    TimelineEntry entry;
    if (node["at"]) entry.at = r.duration(node["at"], "at");
    if (node["when"]) entry.when = read_condition(r, node["when"]);
    if (entry.at.has_value() == entry.when.has_value()) r.fail(node, "a timeline entry needs exactly one of 'at' or 'when'");
    if (node["delay"]) entry.delay = r.duration(node["delay"], "delay");

    const auto check_workload = [&](const YAML::Node& name_node) {
        const auto name = r.string(name_node, "workload name");
        if (!workloads.count(name)) r.fail(name_node, fmt::format("workload '{}' is referenced but not defined", name));
        return name;
    };
    int actions = 0;
    if (node["signal"]) {
        ++actions;
        SignalAction action{r.signal(node["signal"])};
        if (node["to"]) {
            const auto to = r.string(node["to"], "to");
            if (to == "target" || to == "main") action.to = SignalTarget::main;
            else if (to == "group") action.to = SignalTarget::group;
            else if (to.rfind("child ", 0) == 0 && to.size() > 6 && std::all_of(to.begin() + 6, to.end(), ::isdigit)) {
                action.to = SignalTarget::child;
                action.child_index = std::stoi(to.substr(6));
            } else {
                r.fail(node["to"], fmt::format("unknown signal target '{}' (expected target, group or 'child N')", to));
            }
        }
        entry.action = action;
        entry.description = "signal " + node["signal"].as<std::string>();
    } else if (node["to"]) {
        r.fail(node["to"], "'to' goes with 'signal'");
    }
    if (node["stop_load"]) {
        ++actions;
        StopLoadAction action;
        const auto& value = node["stop_load"];
        if (value.IsSequence()) {
            for (const auto& item : value) action.workloads.push_back(check_workload(item));
        } else if (!(value.IsScalar() && value.as<std::string>() == "all")) {
            action.workloads.push_back(check_workload(value));
        }
        entry.action = action;
        entry.description = "stop_load";
    }
    if (node["start_load"]) {
        ++actions;
        entry.action = StartLoadAction{check_workload(node["start_load"])};
        entry.description = "start_load " + std::get<StartLoadAction>(entry.action).workload;
    }
    if (node["pause"]) {
        ++actions;
        entry.action = PauseAction{r.duration(node["pause"], "pause")};
        entry.description = "pause " + node["pause"].as<std::string>();
    }
    if (node["kill_if_alive"]) {
        ++actions;
        r.boolean(node["kill_if_alive"], "kill_if_alive");
        entry.action = KillIfAliveAction{};
        entry.description = "kill_if_alive";
    }
    if (node["restart_target"]) {
        ++actions;
        r.boolean(node["restart_target"], "restart_target");
        entry.action = RestartTargetAction{};
        entry.description = "restart_target";
    }
    if (actions != 1) {
        r.fail(node, "a timeline entry needs exactly one action: signal, stop_load, start_load, pause, kill_if_alive or restart_target");
    }
    return entry;
}

Expectations read_expectations(const Reader& r, const YAML::Node& node, const Scenario& s) {
    r.expect_map(node, "expect");
    r.check_keys(node, "expect",
                 {"dropped", "idle_close_race", "errors", "streams_clean", "rejections_clean", "close_announced", "readiness_flip",
                  "accepting_during_drain_delay", "shutdown_time", "drain_tail", "exit", "orphans", "port_released", "fd_leak",
                  "acked_writes_durable", "jobs_accounted", "stuck_abandoned_within", "p99_during_drain", "shutdown_report"});
    Expectations e;
    const auto count = [&](const char* key, std::uint64_t& out) {
        if (node[key]) out = static_cast<std::uint64_t>(r.integer(node[key], key, 0, INT64_MAX));
    };
    const auto flag = [&](const char* key, bool& out) {
        if (node[key]) out = r.boolean(node[key], key);
    };
    const auto bound = [&](const char* key, std::optional<Duration>& out) {
        if (node[key]) out = r.duration(node[key], key);
    };
    count("dropped", e.dropped);
    count("errors", e.errors);
    count("orphans", e.orphans);
    if (node["idle_close_race"]) {
        const auto policy = r.string(node["idle_close_race"], "idle_close_race");
        if (policy == "fail") e.idle_close_race = Expectations::RacePolicy::fail;
        else if (policy == "tolerate") e.idle_close_race = Expectations::RacePolicy::tolerate;
        else if (policy == "retried") e.idle_close_race = Expectations::RacePolicy::retried;
        else r.fail(node["idle_close_race"], fmt::format("unknown idle_close_race policy '{}' (expected fail, tolerate or retried)", policy));
    }
    if (node["streams_clean"]) e.streams_clean = r.boolean(node["streams_clean"], "streams_clean");
    flag("rejections_clean", e.rejections_clean);
    flag("close_announced", e.close_announced);
    flag("port_released", e.port_released);
    flag("jobs_accounted", e.jobs_accounted);
    flag("shutdown_report", e.shutdown_report);
    bound("readiness_flip", e.readiness_flip);
    bound("accepting_during_drain_delay", e.accepting_during_drain_delay);
    bound("shutdown_time", e.shutdown_time);
    bound("stuck_abandoned_within", e.stuck_abandoned_within);
    bound("p99_during_drain", e.p99_during_drain);
    if (node["drain_tail"]) e.drain_tail = r.duration(node["drain_tail"], "drain_tail");
    if (node["fd_leak"]) e.fd_leak = r.integer(node["fd_leak"], "fd_leak", 0, INT64_MAX);
    if (node["exit"]) {
        const auto text = r.string(node["exit"], "exit");
        if (const auto signal = parse_signal(text); signal && text.rfind("SIG", 0) == 0) {
            e.exit = {true, *signal};
        } else {
            e.exit = {false, static_cast<int>(r.integer(node["exit"], "exit (a code, or a signal like SIGKILL)", 0, 255))};
        }
    }
    if (node["acked_writes_durable"]) {
        const auto& value = node["acked_writes_durable"];
        std::string workload;
        if (value.IsMap()) {
            r.check_keys(value, "acked_writes_durable", {"workload", "read"});
            if (value["workload"]) workload = r.string(value["workload"], "acked_writes_durable.workload");
            if (value["read"]) e.acked_writes_read = r.string(value["read"], "acked_writes_durable.read");
        } else if (!r.boolean(value, "acked_writes_durable")) {
            return e;
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
    return e;
}

Scenario read_scenario(const Reader& r, const YAML::Node& root, const std::string& file) {
    if (!root.IsMap()) r.fail(root, "a scenario must be a mapping with name, target and workloads");
    r.check_keys(root, "the scenario", {"name", "description", "target", "workloads", "timeline", "limits", "threads",
                                        "repeat", "jitter", "seed", "expect"});
    Scenario s;
    s.file = file;
    if (!root["name"]) r.fail(root, "a scenario needs a name");
    s.name = r.string(root["name"], "name");
    if (root["description"]) s.description = r.string(root["description"], "description");
    if (!root["target"]) r.fail(root, "a scenario needs a target");
    s.target = read_target(r, root["target"]);
    std::set<std::string> names;
    if (root["workloads"]) {
        if (!root["workloads"].IsSequence()) r.fail(root["workloads"], "workloads must be a list");
        for (const auto& node : root["workloads"]) {
            s.workloads.push_back(read_workload(r, node));
            if (!names.insert(s.workloads.back().name).second) {
                r.fail(node["name"], fmt::format("workload '{}' is defined twice", s.workloads.back().name));
            }
        }
    }
    if (root["timeline"]) {
        if (!root["timeline"].IsSequence()) r.fail(root["timeline"], "timeline must be a list");
        for (const auto& node : root["timeline"]) s.timeline.push_back(read_timeline_entry(r, node, names));
    }
    if (root["limits"]) {
        r.expect_map(root["limits"], "limits");
        r.check_keys(root["limits"], "limits", {"max_duration"});
        if (root["limits"]["max_duration"]) s.max_duration = r.duration(root["limits"]["max_duration"], "limits.max_duration");
    }
    if (root["threads"]) s.threads = static_cast<int>(r.integer(root["threads"], "threads", 1, 64));
    if (root["repeat"]) s.repeat = static_cast<int>(r.integer(root["repeat"], "repeat", 1, 10000));
    if (root["jitter"]) s.jitter = r.duration(root["jitter"], "jitter");
    if (root["seed"]) s.seed = static_cast<std::uint64_t>(r.integer(root["seed"], "seed", 0, INT64_MAX));
    if (root["expect"]) {
        YAML::Emitter out;
        out << root["expect"];
        s.expect_yaml = out.c_str();
        s.expect = read_expectations(r, root["expect"], s);
    }
    if (!s.expect.streams_clean) {
        s.expect.streams_clean = std::any_of(s.workloads.begin(), s.workloads.end(),
                                             [](const Workload& w) { return w.kind == WorkloadKind::stream; });
    }
    return s;
}

} // namespace

ScenarioError::ScenarioError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

Scenario load_scenario_text(const std::string& text, const std::string& file_name) {
    Reader reader(file_name);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw ScenarioError(file_name, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg);
    }
    return read_scenario(reader, root, file_name);
}

Scenario load_scenario_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw ScenarioError(file.string(), 0, 0, "cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    return load_scenario_text(text.str(), file.string());
}

std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& arguments) {
    std::vector<std::filesystem::path> files;
    for (const auto& argument : arguments) {
        const std::filesystem::path path(argument);
        if (!std::filesystem::is_directory(path)) {
            files.push_back(path);
            continue;
        }
        std::vector<std::filesystem::path> inside;
        for (const auto& entry : std::filesystem::directory_iterator(path)) {
            const auto ext = entry.path().extension();
            if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) inside.push_back(entry.path());
        }
        std::sort(inside.begin(), inside.end());
        files.insert(files.end(), inside.begin(), inside.end());
    }
    return files;
}

} // namespace lastcall::harness
