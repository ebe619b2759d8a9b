// lastcall check: options -> scenario YAML. The YAML is the single source: the check loads it like
// any scenario file, so what --print-scenario shows cannot drift from what runs.
#include "quick_scenario.hpp"

#include "signals.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace lastcall::harness {

namespace {

namespace fs = std::filesystem;

// A YAML double-quoted scalar: any text, control characters escaped, never read as another type.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string shell_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./:={}=,+@%").find(c) != std::string_view::npos;
        });
        out += (out.empty() ? "" : " ") + (plain ? w : "'" + w + "'");
    }
    return out;
}

} // namespace

std::string quick_scenario_yaml(const QuickOptions& o) {
    std::string command;
    for (const auto& word : o.command) command += (command.empty() ? "" : ", ") + quoted(word);
    std::string y;
    y += "# Written by lastcall check --print-scenario; `lastcall run FILE` runs the same test.\n";
    y += fmt::format("name: {}\n", quoted(o.name));
    y += fmt::format("description: {}\n", quoted("lastcall check -- " + shell_words(o.command)));
    y += "target:\n";
    y += fmt::format("  command: [{}]\n", command);
    y += "  env: {PORT: \"{port}\"}           # the port, for commands that read it from the environment\n";
    if (!o.cwd.empty()) y += fmt::format("  cwd: {}\n", quoted(o.cwd));
    y += fmt::format("  host: {}\n", quoted(o.host));
    if (o.port) y += fmt::format("  port: {}\n", *o.port);
    if (!o.shutdown_report.empty()) y += fmt::format("  shutdown_report: {}\n", quoted(o.shutdown_report));
    if (o.ready_path) {
        y += fmt::format("  ready: {{http: {}, timeout: {}}}\n", quoted(*o.ready_path), format_duration(o.ready_timeout));
    } else {
        y += fmt::format("  ready: {{tcp: true, timeout: {}}}\n", format_duration(o.ready_timeout));
    }
    y += "workloads:\n";
    y += "  - name: requests                # keep-alive GETs, from ready until the target exits\n";
    y += fmt::format("    request: {{path: {}}}\n", quoted(o.path));
    y += fmt::format("    connections: {}\n", o.connections);
    y += fmt::format("    think: {}\n", format_duration(o.think));
    if (o.slow_path) {
        y += "  - name: slow                    # requests in flight when the signal comes\n";
        y += fmt::format("    request: {{path: {}}}\n", quoted(*o.slow_path));
        y += fmt::format("    connections: {}\n", o.slow_connections);
    }
    if (o.stream_path) {
        y += "  - name: stream                  # an SSE stream open when the signal comes\n";
        y += "    kind: stream\n";
        y += fmt::format("    request: {{path: {}}}\n", quoted(*o.stream_path));
        if (o.stream_end) y += fmt::format("    stream: {{end: {{data: {}}}}}\n", quoted(*o.stream_end));
    }
    y += "timeline:\n";
    y += fmt::format("  - at: {:<26}# the warm-up\n", format_duration(o.warmup));
    y += fmt::format("    signal: {}\n", signal_name(o.signal));
    y += fmt::format("  - at: {:<26}# the grace period is over\n", format_duration(o.warmup + o.grace));
    y += "    kill_if_alive: true\n";
    y += fmt::format("limits: {{max_duration: {}}}\n", format_duration(o.warmup + o.grace + std::chrono::seconds(5)));
    y += "expect:                           # the defaults, spelled out (harness/README.md)\n";
    y += "  dropped: 0\n";
    y += "  idle_close_race: fail\n";
    y += "  errors: 0\n";
    y += "  close_announced: true\n";
    y += "  rejections_clean: true\n";
    if (o.ready_path) y += "  readiness_flip: 100ms\n";
    y += "  drain_tail: 3s\n";
    y += fmt::format("  exit: {}\n", o.exit);
    y += "  orphans: 0\n";
    y += "  port_released: true\n";
    y += "  fd_leak: 16\n";
    return y;
}

std::vector<std::string> prepare_quick_run(const QuickOptions& o) {
    std::error_code ec;
    fs::create_directories(o.run_root, ec);
    const auto file = o.run_root / (o.name + ".yaml");
    std::ofstream out(file, std::ios::trunc);
    out << quick_scenario_yaml(o);
    if (!out.flush()) throw std::invalid_argument(fmt::format("check: cannot write {}", file.string()));
    std::vector<std::string> run{file.string()};
    run.insert(run.end(), o.run_arguments.begin(), o.run_arguments.end());
    return run;
}

std::string quick_port_hint(const QuickOptions& o) {
    if (o.port) return {};
    const bool takes_port = std::any_of(o.command.begin(), o.command.end(), [](const std::string& w) {
        return w.find("{port}") != std::string::npos || w.find("PORT") != std::string::npos;
    });
    if (takes_port) return {};
    return "lastcall check: the command has no {port}: lastcall exports PORT to it; if the server listens on a fixed port, pass --port N\n";
}

} // namespace lastcall::harness
