// workloads: entries of a scenario, their requests, and the names and paths other sections share.
#include "scenario_sections.hpp"

#include "text_rules.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace lastcall::harness {

namespace {

std::map<std::string, std::string> read_headers(const YamlReader& r, const YAML::Node& node) {
    auto headers = r.string_map(node, "request.headers");
    for (auto it = node.begin(); it != node.end(); ++it) {
        const auto& name = it->first.Scalar();
        if (!is_http_token(name)) {
            r.fail(it->first, fmt::format("header name '{}' is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~)", printable(name)));
        }
        if (!is_http_field_value(it->second.Scalar())) {
            r.fail(it->second, fmt::format("header {} must not contain CR, LF or other control characters, "
                                           "nor start or end with a space",
                                           printable(name)));
        }
    }
    return headers;
}

HttpRequest read_request(const YamlReader& r, const YAML::Node& node, const std::string& default_method) {
    r.expect_map(node, "request");
    r.check_keys(node, "request", {"method", "path", "headers", "body"});
    HttpRequest request;
    request.method = default_method;
    if (node["method"]) {
        request.method = r.string(node["method"], "request.method");
        if (!is_http_token(request.method)) {
            r.fail(node["method"], "request.method must be an HTTP token like GET or POST (letters, digits and !#$%&'*+-.^_`|~)");
        }
    }
    if (node["path"]) request.path = read_request_path(r, node["path"], "request.path");
    if (node["headers"]) request.headers = read_headers(r, node["headers"]);
    if (node["body"]) request.body = r.string(node["body"], "request.body");
    return request;
}

// stream: how a stream workload's streams are read. `resume` reconnects a stream ended by shutdown
// with Last-Event-ID.
// start, stop: the workload must be able to run before the run ends.
void read_window(const YamlReader& r, const YAML::Node& node, Workload& w, Duration max_duration) {
    if (node["start"]) {
        w.start = r.duration(node["start"], "start", ranges::start);
        if (w.start >= max_duration) {
            r.fail(node["start"], fmt::format("start ({}) must be before limits.max_duration ({}): the workload would never run",
                                              format_duration(w.start), format_duration(max_duration)));
        }
    }
    if (node["stop"]) {
        w.stop = r.duration(node["stop"], "stop", ranges::stop);
        if (*w.stop <= w.start) {
            r.fail(node["stop"], fmt::format("stop ({}) must be after start ({})", format_duration(*w.stop), format_duration(w.start)));
        }
    }
}

EventMatcher read_event_matcher(const YamlReader& r, const YAML::Node& node, std::string_view what) {
    r.expect_map(node, what);
    const bool keys_known = r.check_keys(node, what, {"event", "data", "data_contains"});
    EventMatcher m;
    if (node["event"]) m.event = r.string(node["event"], fmt::format("{}.event", what));
    if (node["data"]) m.data = r.string(node["data"], fmt::format("{}.data", what));
    if (node["data_contains"]) m.data_contains = r.string(node["data_contains"], fmt::format("{}.data_contains", what));
    if (!m.event && !m.data && !m.data_contains && keys_known) r.fail(node, fmt::format("{} needs event, data or data_contains", what));
    if (m.data && m.data_contains) r.fail(node["data_contains"], fmt::format("{} takes data (exact) or data_contains, not both", what));
    return m;
}

StreamContract read_stream_contract(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "stream");
    const bool keys_known = r.check_keys(node, "stream", {"end", "shutdown_notice", "resume"});
    StreamContract c;
    if (node["end"]) c.end = read_event_matcher(r, node["end"], "stream.end");
    if (node["shutdown_notice"]) c.shutdown_notice = read_event_matcher(r, node["shutdown_notice"], "stream.shutdown_notice");
    if (node["resume"]) c.resume = r.boolean(node["resume"], "stream.resume");
    // Only a notice tells a stream the shutdown ended from one that was complete: resumption is
    // judged on the former.
    if (c.resume && !c.shutdown_notice && keys_known) {
        r.fail(node["resume"], "stream.resume needs shutdown_notice (how the server says it ended a stream for shutdown)");
    }
    return c;
}

JobContract read_job_contract(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "job");
    const bool keys_known = r.check_keys(node, "job", {"id", "poll", "done", "poll_interval"});
    for (const char* key : {"id", "poll", "done"}) {
        if (!node[key] && keys_known) {
            r.fail(node, fmt::format("job needs {} (job: {{id: /id, poll: \"/tasks/{{id}}\", done: {{pointer: /status, equals: done}}}})", key));
        }
    }
    // A key missing here was said as unknown (misspelt): what is there is still read.
    JobContract job;
    if (node["id"]) job.id_pointer = read_json_pointer(r, node["id"], "job.id");
    if (node["poll"]) {
        job.poll = read_request_path(r, node["poll"], "job.poll");
        if (job.poll.find("{id}") == std::string::npos) r.fail(node["poll"], "job.poll must hold {id}, where the job's id goes");
    }
    if (const auto& done = node["done"]) {
        r.expect_map(done, "job.done");
        const bool done_keys_known = r.check_keys(done, "job.done", {"pointer", "equals"});
        if ((!done["pointer"] || !done["equals"]) && done_keys_known) {
            r.fail(done, "job.done needs pointer and equals (done: {pointer: /status, equals: done})");
        }
        if (done["pointer"]) job.done_pointer = read_json_pointer(r, done["pointer"], "job.done.pointer");
        if (done["equals"]) job.done_equals = r.string(done["equals"], "job.done.equals");
    }
    if (node["poll_interval"]) job.poll_interval = r.duration(node["poll_interval"], "job.poll_interval", ranges::poll_interval);
    return job;
}

BodyExpectation read_body_expectation(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "expect_body");
    const bool keys_known = r.check_keys(node, "expect_body", {"bytes", "content_length_met", "sha256"});
    BodyExpectation b;
    if (node["bytes"]) b.bytes = static_cast<std::uint64_t>(r.integer(node["bytes"], "expect_body.bytes", ranges::body_bytes));
    if (node["content_length_met"]) b.content_length_met = r.boolean(node["content_length_met"], "expect_body.content_length_met");
    if (node["sha256"]) {
        auto hex = r.string(node["sha256"], "expect_body.sha256");
        std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const bool ok = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
        if (!ok) r.fail(node["sha256"], "expect_body.sha256 must be 64 hex digits (sha256sum's output)");
        b.sha256 = hex;
    }
    if (!b.bytes && !b.content_length_met && !b.sha256 && keys_known) r.fail(node, "expect_body needs bytes, content_length_met or sha256");
    return b;
}

} // namespace

std::string read_json_pointer(const YamlReader& r, const YAML::Node& node, std::string_view what) {
    auto text = r.string(node, what);
    try {
        [[maybe_unused]] const nlohmann::json::json_pointer pointer(text);
    } catch (const nlohmann::json::exception&) {
        r.fail(node, fmt::format("{} must be a JSON pointer like /id or /data/0/state ('' for the whole body; ~0 and ~1 escape ~ and /)", what));
    }
    return text;
}

const Workload* find_workload(const Scenario& s, std::string_view name) {
    const Workload* any = nullptr;
    for (const auto& w : s.workloads) {
        if (w.name == name) return &w;
        if (w.name.empty()) any = &w;
    }
    return any;
}

std::string read_name(const YamlReader& r, const YAML::Node& node, std::string_view what) {
    auto name = r.string(node, what);
    if (!is_safe_name(name)) {
        r.fail(node, fmt::format("{} '{}' must be 1 to {} letters, digits, '.', '_' or '-', not starting with '.'", what,
                                 printable(name), ranges::max_name_length));
    }
    return name;
}

std::string read_request_path(const YamlReader& r, const YAML::Node& node, std::string_view what) {
    auto path = r.string(node, what);
    if (!is_origin_form(path)) {
        r.fail(node, fmt::format("{} must start with / and hold no spaces or control characters (percent-encode them, like %20)", what));
    }
    return path;
}

Workload read_workload(const YamlReader& r, const YAML::Node& node, Duration max_duration) {
    r.expect_map(node, "a workload");
    // An unknown key is said, and the rest of the workload still read; what a key left out would
    // make an error is then not said (`nmae:`, `mdoe: open`, `knid: stream` were the key, misspelt).
    const bool keys_known = r.check_keys(node, "a workload", {"name", "kind", "request", "mode", "connections", "think", "rate", "start", "stop",
                                                              "keep_alive", "timeout", "client_retry", "max_requests", "stream", "job", "expect_body"});
    // A key's value as read, or its default when it is certainly left out (no key was unknown).
    const auto settled = [&](const char* key) { return node[key] || keys_known; };
    Workload w;
    r.attempt([&] {
        if (!node["name"] && keys_known) r.fail(node, "a workload needs a name");
        if (!node["name"]) return;
        w.name = read_name(r, node["name"], "workload name");
        if (w.name == "all") r.fail(node["name"], "workload name 'all' is taken (stop_load: all stops every workload)");
    });
    if (node["kind"]) {
        w.kind = r.choice<WorkloadKind>(node["kind"], "kind", {{"request", WorkloadKind::request}, {"stream", WorkloadKind::stream},
                                                               {"job", WorkloadKind::job}, {"slowloris", WorkloadKind::slowloris}});
    }
    const std::string default_method = w.kind == WorkloadKind::job ? "POST" : "GET";
    w.request.method = default_method;
    // From here each field is read apart (its error kept, the next one read): the kind, which the
    // rest depends on, was read first.
    if (node["request"]) r.attempt([&] { w.request = read_request(r, node["request"], default_method); });
    r.attempt([&] {
        if (node["mode"]) w.mode = r.choice<LoadMode>(node["mode"], "mode", {{"closed", LoadMode::closed}, {"open", LoadMode::open}});
        if (w.mode == LoadMode::closed && node["rate"] && settled("mode")) r.fail(node["rate"], "rate is for mode: open (closed loops use connections)");
        if (node["rate"]) w.rate = r.rate(node["rate"], "rate");
        if (w.mode == LoadMode::open && !node["rate"] && keys_known) r.fail(node, fmt::format("open-loop workload '{}' needs a rate", w.name));
    });
    if (node["connections"]) r.attempt([&] { w.connections = static_cast<int>(r.integer(node["connections"], "connections", ranges::connections)); });
    if (node["think"]) r.attempt([&] { w.think = r.duration(node["think"], "think", ranges::think); });
    r.attempt([&] { read_window(r, node, w, max_duration); });
    if (node["keep_alive"]) r.attempt([&] { w.keep_alive = r.boolean(node["keep_alive"], "keep_alive"); });
    if (node["timeout"]) r.attempt([&] { w.timeout = r.duration(node["timeout"], "timeout", ranges::request_timeout); });
    if (node["client_retry"]) {
        r.attempt([&] {
            w.client_retry = r.choice<ClientRetry>(node["client_retry"], "client_retry",
                                                   {{"none", ClientRetry::none}, {"idempotent", ClientRetry::idempotent}});
        });
    }
    if (node["max_requests"]) {
        r.attempt([&] { w.max_requests = static_cast<std::uint64_t>(r.integer(node["max_requests"], "max_requests", ranges::max_requests)); });
    }
    if (node["stream"]) {
        r.attempt([&] {
            if (w.kind != WorkloadKind::stream && settled("kind")) r.fail(node["stream"], "stream: is for kind: stream");
            w.stream = read_stream_contract(r, node["stream"]);
            if (w.stream.resume && w.mode != LoadMode::closed) {
                r.fail(node["stream"]["resume"], "stream.resume needs mode: closed (each connection resumes the stream it had)");
            }
        });
    }
    if (node["job"]) {
        r.attempt([&] {
            if (w.kind != WorkloadKind::job && settled("kind")) r.fail(node["job"], "job: is for kind: job");
            w.job = read_job_contract(r, node["job"]);
        });
    }
    if (node["expect_body"]) {
        r.attempt([&] {
            if (w.kind == WorkloadKind::slowloris) r.fail(node["expect_body"], "expect_body: a slowloris workload gets no body");
            w.expect_body = read_body_expectation(r, node["expect_body"]);
        });
    }
    return w;
}

} // namespace lastcall::harness
