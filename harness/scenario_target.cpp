// target: and target.ready: of a scenario.
#include "scenario_sections.hpp"

#include <algorithm>

namespace lastcall::harness {

namespace {

ReadyCheck read_ready(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "target.ready");
    r.check_keys(node, "target.ready", {"http", "tcp", "timeout"});  // no key is needed: the others are read
    ReadyCheck ready;
    if (node["http"]) ready.http_path = read_request_path(r, node["http"], "target.ready.http");
    if (node["http"] && node["tcp"]) r.fail(node, "target.ready takes either http or tcp, not both");
    if (node["tcp"] && !r.boolean(node["tcp"], "target.ready.tcp")) r.fail(node["tcp"], "target.ready.tcp must be true");
    if (node["timeout"]) ready.timeout = r.duration(node["timeout"], "target.ready.timeout", ranges::ready_timeout);
    return ready;
}

std::map<std::string, std::string> read_env(const YamlReader& r, const YAML::Node& node) {
    const auto env = r.string_map(node, "target.env");
    for (auto it = node.begin(); it != node.end(); ++it) {
        const auto& name = it->first.Scalar();
        if (name.empty() || name.find('=') != std::string::npos) {
            r.fail(it->first, "target.env names must not be empty or contain '='");
        }
    }
    return env;
}

// target.pid1: a boolean; whether the namespace can be made is found out at run time (a run
// without one is skipped, not refused here: the same file runs where it can).
bool read_pid1(const YamlReader& r, const YAML::Node& node) { return r.boolean(node, "target.pid1"); }

} // namespace

Target read_target(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "target");
    const bool keys_known =
        r.check_keys(node, "target", {"command", "env", "cwd", "host", "port", "allow_remote", "ready", "shutdown_report", "pid1", "reload_signal"});
    Target target;
    // Each field apart: its error is kept and the next one read (yaml_reader.hpp attempt()).
    r.attempt([&] {
        if (!node["command"]) {
            if (keys_known) r.fail(node, "target needs a command (an argv list)");
            return;  // `comand:` was said as unknown: not missing too
        }
        target.command = r.string_list(node["command"], "target.command");
        if (target.command.empty()) r.fail(node["command"], "target.command must not be empty");
    });
    if (node["env"]) r.attempt([&] { target.env = read_env(r, node["env"]); });
    if (node["cwd"]) r.attempt([&] { target.cwd = r.string(node["cwd"], "target.cwd"); });
    if (node["host"]) {
        r.attempt([&] {
            target.host = r.string(node["host"], "target.host");
            const bool spaced = std::any_of(target.host.begin(), target.host.end(), [](char c) {
                return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
            });
            if (target.host.empty() || spaced) r.fail(node["host"], "target.host must be a host name or address, without spaces or control characters");
        });
    }
    if (node["allow_remote"]) r.attempt([&] { target.allow_remote = r.boolean(node["allow_remote"], "target.allow_remote"); });
    if (node["port"] && !(node["port"].IsScalar() && node["port"].Scalar() == "auto")) {
        r.attempt([&] { target.port = static_cast<std::uint16_t>(r.integer(node["port"], "target.port", ranges::port)); });
    }
    if (node["ready"]) r.attempt([&] { target.ready = read_ready(r, node["ready"]); });
    if (node["shutdown_report"]) r.attempt([&] { target.shutdown_report = r.string(node["shutdown_report"], "target.shutdown_report"); });
    if (node["pid1"]) r.attempt([&] { target.pid1 = read_pid1(r, node["pid1"]); });
    if (node["reload_signal"]) r.attempt([&] { target.reload_signal = r.signal(node["reload_signal"]); });
    return target;
}

} // namespace lastcall::harness
