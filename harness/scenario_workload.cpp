// workloads: entries of a scenario, their requests, and the names and paths other sections share.
#include "scenario_sections.hpp"

#include "text_rules.hpp"

#include <fmt/format.h>

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
void read_stream_block(const YamlReader& r, const YAML::Node& node, Workload& w) {
    r.expect_map(node, "stream");
    r.check_keys(node, "stream", {"resume"});
    if (w.kind != WorkloadKind::stream) r.fail(node, "stream: is for kind: stream workloads");
    if (node["resume"]) w.stream_resume = r.boolean(node["resume"], "stream.resume");
    if (w.stream_resume && w.mode != LoadMode::closed) {
        r.fail(node["resume"], "stream.resume needs mode: closed (each connection resumes the stream it had)");
    }
}

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

} // namespace

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
    r.check_keys(node, "a workload", {"name", "kind", "request", "mode", "connections", "think", "rate", "start", "stop",
                                      "keep_alive", "timeout", "client_retry", "max_requests", "stream"});
    Workload w;
    if (!node["name"]) r.fail(node, "a workload needs a name");
    w.name = read_name(r, node["name"], "workload name");
    if (w.name == "all") r.fail(node["name"], "workload name 'all' is taken (stop_load: all stops every workload)");
    if (node["kind"]) {
        w.kind = r.choice<WorkloadKind>(node["kind"], "kind", {{"request", WorkloadKind::request}, {"stream", WorkloadKind::stream},
                                                               {"job", WorkloadKind::job}, {"slowloris", WorkloadKind::slowloris}});
    }
    const std::string default_method = w.kind == WorkloadKind::job ? "POST" : "GET";
    w.request.method = default_method;
    if (node["request"]) w.request = read_request(r, node["request"], default_method);
    if (node["mode"]) w.mode = r.choice<LoadMode>(node["mode"], "mode", {{"closed", LoadMode::closed}, {"open", LoadMode::open}});
    if (node["connections"]) w.connections = static_cast<int>(r.integer(node["connections"], "connections", ranges::connections));
    if (node["think"]) w.think = r.duration(node["think"], "think", ranges::think);
    if (w.mode == LoadMode::closed && node["rate"]) r.fail(node["rate"], "rate is for mode: open (closed loops use connections)");
    if (node["rate"]) w.rate = r.rate(node["rate"], "rate");
    if (w.mode == LoadMode::open && !node["rate"]) r.fail(node, fmt::format("open-loop workload '{}' needs a rate", w.name));
    read_window(r, node, w, max_duration);
    if (node["keep_alive"]) w.keep_alive = r.boolean(node["keep_alive"], "keep_alive");
    if (node["timeout"]) w.timeout = r.duration(node["timeout"], "timeout", ranges::request_timeout);
    if (node["client_retry"]) {
        w.client_retry = r.choice<ClientRetry>(node["client_retry"], "client_retry",
                                               {{"none", ClientRetry::none}, {"idempotent", ClientRetry::idempotent}});
    }
    if (node["max_requests"]) w.max_requests = static_cast<std::uint64_t>(r.integer(node["max_requests"], "max_requests", ranges::max_requests));
    if (node["stream"]) read_stream_block(r, node["stream"], w);
    return w;
}

} // namespace lastcall::harness
