// lastcall check: options -> scenario YAML. The YAML is the single source: the check loads it like
// any scenario file, so what --print-scenario shows cannot drift from what runs.
#include "quick_scenario.hpp"

#include "signals.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
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

int whole_number(const std::string& option, const std::string& text, int low, int high) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
        throw std::invalid_argument(fmt::format("{} needs a whole number from {} to {}, not '{}'", option, low, high, text));
    }
    return value;
}

Duration duration(const std::string& option, const std::string& text) {
    const auto d = parse_duration(text);
    if (!d || *d > std::chrono::hours(1)) throw std::invalid_argument(fmt::format("{} needs a duration up to 1h like 500ms or 2s, not '{}'", option, text));
    return *d;
}

std::string request_path(const std::string& option, const std::string& text) {
    if (!is_origin_form(text)) throw std::invalid_argument(fmt::format("{} needs a path: / then visible ASCII, no spaces (%20), not '{}'", option, printable(text)));
    return text;
}

// `expect.exit` as the scenario spells it: codes and signals, any of which passes ("0,TERM" -> [0, SIGTERM]).
std::string exit_expectation(const std::string& text) {
    std::vector<std::string> items;
    std::size_t from = 0;
    for (;;) {
        const auto comma = text.find(',', from);
        const auto item = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
        if (!item.empty() && std::isdigit(static_cast<unsigned char>(item[0]))) {
            items.push_back(std::to_string(whole_number("--exit", item, 0, 255)));
        } else if (const auto signal = parse_signal(item)) {
            items.push_back(signal_name(*signal));
        } else {
            throw std::invalid_argument(fmt::format("--exit needs exit codes (0-255) or signals (TERM, SIGKILL, 9...), comma-separated, not '{}'", printable(item)));
        }
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    if (items.size() == 1) return items[0];
    std::string list;
    for (const auto& i : items) list += (list.empty() ? "" : ", ") + i;
    return "[" + list + "]";
}

// "--opt=value" as "--opt" "value", as the other commands take it (CLI11); the target's command
// after -- is left as it is.
std::vector<std::string> split_equals(const std::vector<std::string>& words) {
    std::vector<std::string> split;
    bool command = false;
    for (const auto& word : words) {
        command = command || word == "--";
        const auto eq = word.find('=');
        if (!command && word.starts_with("--") && eq != std::string::npos) {
            split.push_back(word.substr(0, eq));
            split.push_back(word.substr(eq + 1));
        } else {
            split.push_back(word);
        }
    }
    return split;
}

} // namespace

const char* quick_usage() {
    return "usage: lastcall check [options] -- COMMAND ARGS...\n"
           "  Starts COMMAND ({port} in it, and $PORT in its environment, is the port lastcall chose),\n"
           "  waits until it is ready, sends keep-alive GETs, sends the graceful signal after a warm-up,\n"
           "  judges the default checks. The same as `lastcall run` on the scenario --print-scenario writes.\n"
           "  --path PATH           keep-alive GETs on PATH (/)\n"
           "  --connections N       how many connections send them (2)\n"
           "  --think DUR           pause between two requests on a connection (10ms)\n"
           "  --slow PATH           also requests in flight at the signal, e.g. \"/slow?ms=1000\"\n"
           "  --slow-connections N  (2)\n"
           "  --stream PATH         also SSE streams (complete when the HTTP message is), one connection\n"
           "  --stream-end DATA     ... and only with this data line last, e.g. \"[DONE]\"\n"
           "  --ready PATH          ready when GET PATH answers 2xx, and readiness_flip is judged (default: TCP connect)\n"
           "  --ready-timeout DUR   (10s)\n"
           "  --signal SIG          the graceful signal: TERM, QUIT, WINCH, 28, RTMIN+2... (TERM)\n"
           "  --warmup DUR          ready -> signal (1s)\n"
           "  --grace DUR           signal -> SIGKILL if still running (10s)\n"
           "  --exit LIST           expected exits, any of which passes: 0, 143, TERM, \"0,TERM\"... (0)\n"
           "  --host HOST           (127.0.0.1)   --port N   a fixed port (default: a free one)\n"
           "  --shutdown-report FILE  where the target writes a shutdown report (lastcall-server's format), as evidence\n"
           "  --name NAME           the run directory's name (check)\n"
           "  --print-scenario      print the equivalent scenario YAML and exit\n"
           "  --run-dir DIR  --junit FILE  --json FILE  --server PATH  --quiet  --no-color   as for `lastcall run`\n"
           "  (--opt=value is the same as --opt value)\n"
           "exit codes: 0 fine, 1 a check failed, 2 command line wrong, 3 target not started or not ready\n";
}

QuickOptions parse_quick_options(const std::vector<std::string>& words) {
    const auto arguments = split_equals(words);
    QuickOptions o;
    // `lastcall check -- ./server` means the ./server here, as in a shell (a scenario's default
    // cwd is its run's workdir, where a relative command would not be found).
    std::error_code ec;
    o.cwd = std::filesystem::current_path(ec).string();
    std::size_t i = 0;
    for (; i < arguments.size(); ++i) {
        const auto& a = arguments[i];
        if (a == "--") break;
        const auto value = [&]() -> std::string {
            if (i + 1 >= arguments.size() || arguments[i + 1] == "--") throw std::invalid_argument(a + " needs a value");
            return arguments[++i];
        };
        if (a == "--path") o.path = request_path(a, value());
        else if (a == "--connections" || a == "-c") o.connections = whole_number(a, value(), 1, 1000);
        else if (a == "--think") o.think = duration(a, value());
        else if (a == "--slow") o.slow_path = request_path(a, value());
        else if (a == "--slow-connections") o.slow_connections = whole_number(a, value(), 1, 1000);
        else if (a == "--stream") o.stream_path = request_path(a, value());
        else if (a == "--stream-end") o.stream_end = value();
        else if (a == "--ready") o.ready_path = request_path(a, value());
        else if (a == "--ready-timeout") o.ready_timeout = duration(a, value());
        else if (a == "--signal") {
            const auto text = value();
            const auto signal = parse_signal(text);
            if (!signal) throw std::invalid_argument(fmt::format("--signal: unknown signal '{}' (a name like TERM, WINCH, RTMIN+2 or a number)", text));
            o.signal = *signal;
        } else if (a == "--warmup") o.warmup = duration(a, value());
        else if (a == "--grace") o.grace = duration(a, value());
        else if (a == "--exit") o.exit = exit_expectation(value());
        else if (a == "--host") o.host = value();
        else if (a == "--shutdown-report") o.shutdown_report = value();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(whole_number(a, value(), 1, 65535));
        else if (a == "--name") {
            o.name = value();
            if (!is_safe_name(o.name)) throw std::invalid_argument(fmt::format("--name: '{}' is not a name (letters, digits, . _ -, not starting with .)", printable(o.name)));
        }
        else if (a == "--print-scenario") o.print_scenario = true;
        else if (a == "--quiet" || a == "-q" || a == "--no-color") o.run_arguments.push_back(a);
        else if (a == "--run-dir" || a == "--junit" || a == "--json" || a == "--server") {
            const auto v = value();
            if (a == "--run-dir") o.run_root = v;
            o.run_arguments.insert(o.run_arguments.end(), {a, v});
        } else if (!a.starts_with("-")) {
            throw std::invalid_argument(fmt::format("check: '{}' before --: the target's command goes after -- (lastcall check [options] -- COMMAND ARGS...)", a));
        } else throw std::invalid_argument("check: unknown option " + a);
    }
    if (i >= arguments.size()) throw std::invalid_argument("check needs the target's command after --");
    o.command.assign(arguments.begin() + static_cast<std::ptrdiff_t>(i) + 1, arguments.end());
    if (o.command.empty()) throw std::invalid_argument("check needs the target's command after --");
    if (o.stream_end && !o.stream_path) throw std::invalid_argument("--stream-end needs --stream PATH");
    if (o.warmup < std::chrono::milliseconds(100)) throw std::invalid_argument("--warmup must be at least 100ms (the load needs time to run)");
    if (o.grace < std::chrono::milliseconds(100)) throw std::invalid_argument("--grace must be at least 100ms");
    return o;
}

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
