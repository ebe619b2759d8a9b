// `lastcall check`'s command line, read by CLI11: the options before --, the target's command after
// it (split off first, so no word of the command is ever taken for an option). Each value is
// checked as it is read, and the message names the option and the value.
#include "quick_scenario.hpp"

#include "command_line.hpp"
#include "signals.hpp"
#include "text_rules.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace lastcall::harness {

namespace {

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

using Apply = std::function<void(const std::string&)>;

// An option whose value is read into `o` when CLI11 has the command line (the last one given wins).
void option(CLI::App& app, const std::string& names, const std::string& type, const std::string& help, Apply apply) {
    app.add_option_function<std::string>(names, std::move(apply), help)->type_name(type)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// The options of `lastcall check`, writing into `o`.
void add_quick_options(CLI::App& app, QuickOptions& o) {
    usage_needs(app, "-- COMMAND ARGS...");
    app.description(
        "lastcall check [OPTIONS] -- COMMAND ARGS...: a test of COMMAND's shutdown without a scenario file.\n"
        "Starts COMMAND ({port} in it, and $PORT in its environment, is the port lastcall chose), waits until it is ready,\n"
        "sends keep-alive GETs, sends the graceful signal after a warm-up, judges the default checks. The same as\n"
        "`lastcall run` on the scenario --print-scenario writes.");
    app.allow_extras();  // words that are no option: refused by parse_quick_options, saying where they go
    option(app, "--path", "PATH", "keep-alive GETs on PATH (/)", [&o](const std::string& v) { o.path = request_path("--path", v); });
    option(app, "-c,--connections", "N", "how many connections send them (2)",
           [&o](const std::string& v) { o.connections = whole_number("--connections", v, 1, 1000); });
    option(app, "--think", "DUR", "pause between two requests on a connection (10ms)", [&o](const std::string& v) { o.think = duration("--think", v); });
    option(app, "--slow", "PATH", "also requests in flight at the signal, e.g. \"/slow?ms=1000\"",
           [&o](const std::string& v) { o.slow_path = request_path("--slow", v); });
    option(app, "--slow-connections", "N", "how many connections send them (2)",
           [&o](const std::string& v) { o.slow_connections = whole_number("--slow-connections", v, 1, 1000); });
    option(app, "--stream", "PATH", "also SSE streams (complete when the HTTP message is), one connection",
           [&o](const std::string& v) { o.stream_path = request_path("--stream", v); });
    option(app, "--stream-end", "DATA", "... and only with this data line last, e.g. \"[DONE]\"", [&o](const std::string& v) { o.stream_end = v; });
    option(app, "--ready", "PATH", "ready when GET PATH answers 2xx, and readiness_flip is judged (default: TCP connect)",
           [&o](const std::string& v) { o.ready_path = request_path("--ready", v); });
    option(app, "--ready-timeout", "DUR", "(10s)", [&o](const std::string& v) { o.ready_timeout = duration("--ready-timeout", v); });
    option(app, "--signal", "SIG", "the graceful signal: TERM, QUIT, WINCH, 28, RTMIN+2... (TERM)", [&o](const std::string& v) {
        const auto signal = parse_signal(v);
        if (!signal) throw std::invalid_argument(fmt::format("--signal: unknown signal '{}' (a name like TERM, WINCH, RTMIN+2 or a number)", v));
        o.signal = *signal;
    });
    option(app, "--warmup", "DUR", "ready -> signal (1s)", [&o](const std::string& v) { o.warmup = duration("--warmup", v); });
    option(app, "--grace", "DUR", "signal -> SIGKILL if still running (10s)", [&o](const std::string& v) { o.grace = duration("--grace", v); });
    option(app, "--exit", "LIST", "expected exits, any of which passes: 0, 143, TERM, \"0,TERM\"... (0)",
           [&o](const std::string& v) { o.exit = exit_expectation(v); });
    option(app, "--host", "HOST", "(127.0.0.1)", [&o](const std::string& v) { o.host = v; });
    option(app, "--port", "N", "a fixed port (default: a free one)",
           [&o](const std::string& v) { o.port = static_cast<std::uint16_t>(whole_number("--port", v, 1, 65535)); });
    option(app, "--shutdown-report", "FILE", "where the target writes a shutdown report (lastcall-server's format), as evidence",
           [&o](const std::string& v) { o.shutdown_report = v; });
    option(app, "--name", "NAME", "the run directory's name (check)", [&o](const std::string& v) {
        if (!is_safe_name(v)) throw std::invalid_argument(fmt::format("--name: '{}' is not a name (letters, digits, . _ -, not starting with .)", printable(v)));
        o.name = v;
    });
    app.add_flag("--print-scenario", o.print_scenario, "print the equivalent scenario YAML and exit");
    // What `lastcall run` takes, passed on to it.
    for (const auto& [run_option, type] : {std::pair{"--run-dir", "DIR"}, {"--junit", "FILE"}, {"--json", "FILE"}, {"--server", "PATH"}}) {
        option(app, run_option, type, "as for `lastcall run`", [&o, run_option](const std::string& v) {
            if (std::string_view(run_option) == "--run-dir") o.run_root = v;
            o.run_arguments.insert(o.run_arguments.end(), {run_option, v});
        });
    }
    for (const char* run_flag : {"--quiet", "--no-color"}) {
        app.add_flag_callback(run_flag, [&o, run_flag] { o.run_arguments.emplace_back(run_flag); }, "as for `lastcall run`");
    }
    app.footer("Exit codes: 0 fine, 1 a check failed, 2 command line wrong, 3 target not started or not ready.");
}

} // namespace

std::string quick_usage() {
    CLI::App app("", "lastcall check");
    QuickOptions unused;
    add_quick_options(app, unused);
    return app.help();
}

QuickOptions parse_quick_options(const std::vector<std::string>& arguments) {
    QuickOptions o;
    // `lastcall check -- ./server` means the ./server here, as in a shell (a scenario's default
    // cwd is its run's workdir, where a relative command would not be found).
    std::error_code ec;
    o.cwd = std::filesystem::current_path(ec).string();
    const auto separator = std::find(arguments.begin(), arguments.end(), "--");
    CLI::App app("", "lastcall check");
    add_quick_options(app, o);
    if (!parse_arguments(app, {arguments.begin(), separator})) {
        o.help = true;
        return o;
    }
    if (const auto stray = app.remaining(); !stray.empty()) {
        if (stray.front().starts_with("-")) throw std::invalid_argument("unknown option " + printable(stray.front()));
        throw std::invalid_argument(fmt::format("'{}' before --: the target's command goes after -- (lastcall check [options] -- COMMAND ARGS...)",
                                                printable(stray.front())));
    }
    if (separator == arguments.end() || separator + 1 == arguments.end()) throw std::invalid_argument("check needs the target's command after --");
    o.command.assign(separator + 1, arguments.end());
    if (o.stream_end && !o.stream_path) throw std::invalid_argument("--stream-end needs --stream PATH");
    if (o.warmup < std::chrono::milliseconds(100)) throw std::invalid_argument("--warmup must be at least 100ms (the load needs time to run)");
    if (o.grace < std::chrono::milliseconds(100)) throw std::invalid_argument("--grace must be at least 100ms");
    return o;
}

} // namespace lastcall::harness
