#include "config.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cctype>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

namespace lastcall::server {

namespace {

using namespace std::chrono_literals;

template <class Number>
Number parse_number(std::string_view text, std::string_view what, Number min, Number max) {
    Number value{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
        throw UsageError(fmt::format("bad value for {}: '{}' (expected a whole number from {} to {})", what, text, min, max));
    }
    return value;
}

int parse_signal(std::string_view name, std::string_view what) {
    if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
    for (int s = 1; s < NSIG; ++s) {
        const char* abbrev = sigabbrev_np(s);
        if (abbrev && name == abbrev) return s;
    }
    throw UsageError(fmt::format("bad value for {}: unknown signal '{}' (expected a name like TERM, INT, QUIT)", what, name));
}

// Calls `each` for every item of a comma-separated list.
template <class Each>
void for_each_item(std::string_view text, Each each) {
    while (!text.empty()) {
        const auto comma = text.find(',');
        each(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
}

std::vector<int> parse_signal_list(std::string_view text, std::string_view what) {
    std::vector<int> signals;
    for_each_item(text, [&](std::string_view name) { signals.push_back(parse_signal(name, what)); });
    return signals;
}

void add_faults(Faults& faults, std::string_view text) {
    for_each_item(text, [&](std::string_view name) {
        const auto fault = parse_fault(name);
        if (!fault) {
            std::string known;
            for (const auto& info : all_faults()) known += (known.empty() ? "" : ", ") + std::string(info.name);
            throw UsageError(fmt::format("unknown fault '{}' (known: {})", name, known));
        }
        faults.enable(*fault);
    });
}

// One table drives flags, environment variables (LASTCALL_SERVER_<FLAG>) and the help text.
struct Option {
    std::string_view flag;
    std::string_view type;   // what the value is, in the help
    std::string_view group;  // the heading it is listed under in the help
    std::string_view help;
    std::function<void(ServerConfig&, std::string_view value, std::string_view what)> apply;
    bool from_environment = true;  // false: set by a prefork master on its workers' command line only
};

constexpr std::string_view listening = "Listening";
constexpr std::string_view prefork = "Master and workers (--workers)";
constexpr std::string_view budgets = "Shutdown budgets";
constexpr std::string_view signal_group = "Signals";
constexpr std::string_view connections = "Connections";
constexpr std::string_view state = "State";
constexpr std::string_view testing = "Testing (deliberate bugs, measurements)";
constexpr std::string_view internal = "Set by a prefork master on its workers (not for users)";

const std::vector<Option>& options() {
    static const std::vector<Option> table{
        {"--host", "ADDRESS", listening, "address to listen on (default 127.0.0.1)",
         [](auto& c, auto v, auto) { c.host = std::string(v); }},
        {"--port", "PORT", listening, "port, 0 = any free port (default 8080)",
         [](auto& c, auto v, auto w) { c.port = parse_number<unsigned short>(v, w, 0, 65535); }},
        {"--listen-fd", "FD", listening, "serve this inherited listening socket instead of binding --host/--port",
         [](auto& c, auto v, auto w) { c.listen_fd = parse_number<int>(v, w, 0, 1 << 20); }},
        {"--threads", "N", listening, "I/O threads (default 2)",
         [](auto& c, auto v, auto w) { c.threads = parse_number<unsigned>(v, w, 1, 256); }},
        {"--workers", "N", prefork, "a master and N worker processes sharing the listener, 0 = one process (default 0)",
         [](auto& c, auto v, auto w) { c.workers = parse_number<unsigned>(v, w, 0, 64); }},
        {"--graceful-timeout", "DURATION", prefork, "--workers: workers still alive this long after the signal are killed (default global budget + 2s)",
         [](auto& c, auto v, auto w) { c.graceful_timeout = parse_duration(v, w); }},
        {"--worker-boot-timeout", "DURATION", prefork, "--workers: a worker must be ready within (default 10s)",
         [](auto& c, auto v, auto w) { c.worker_boot_timeout = parse_duration(v, w); }},
        {"--state-dir", "DIR", state, "checkpoint, jobs database, shutdown-report.json (default ./lastcall-state)",
         [](auto& c, auto v, auto) { c.state_dir = std::string(v); }},
        {"--global-budget", "DURATION", budgets, "whole shutdown deadline (default 30s)",
         [](auto& c, auto v, auto w) { c.budgets.global = parse_duration(v, w); }},
        {"--drain-delay", "DURATION", budgets, "keep accepting while /ready fails (default 0s)",
         [](auto& c, auto v, auto w) { c.budgets.drain_delay = parse_duration(v, w); }},
        {"--drain-budget", "DURATION", budgets, "in-flight requests and streams (default 20s)",
         [](auto& c, auto v, auto w) { c.budgets.drain = parse_duration(v, w); }},
        {"--stream-grace", "DURATION", budgets, "streams get their end event after (default 500ms)",
         [](auto& c, auto v, auto w) { c.budgets.stream_grace = parse_duration(v, w); }},
        {"--task-budget", "DURATION", budgets, "background tasks finish on their own (default 5s)",
         [](auto& c, auto v, auto w) { c.budgets.tasks = parse_duration(v, w); }},
        {"--task-cancel-grace", "DURATION", budgets, "cancelled tasks wind down (default 1s)",
         [](auto& c, auto v, auto w) { c.budgets.task_cancel_grace = parse_duration(v, w); }},
        {"--cleanup-budget", "DURATION", budgets, "closing resources (default 5s)",
         [](auto& c, auto v, auto w) { c.budgets.cleanup = parse_duration(v, w); }},
        {"--close-linger", "DURATION", budgets, "draining holds a keep-alive connection this long for a request on its way (default 200ms)",
         [](auto& c, auto v, auto w) { c.budgets.close_linger = parse_duration(v, w); }},
        {"--journal-compact-bytes", "BYTES", state, "checkpoint and compact the journal when it grew this much, 0 = only at shutdown (default 4194304)",
         [](auto& c, auto v, auto w) { c.journal_compact_bytes = parse_number<std::uint64_t>(v, w, 0, 1ULL << 40); }},
        {"--header-timeout", "DURATION", connections, "a started request's header and body (default 10s)",
         [](auto& c, auto v, auto w) { c.header_timeout = parse_duration(v, w); }},
        {"--idle-timeout", "DURATION", connections, "idle keep-alive connection (default 60s)",
         [](auto& c, auto v, auto w) { c.idle_timeout = parse_duration(v, w); }},
        {"--job-commit-delay", "DURATION", testing, "a stalled disk, for tests: each jobs-database call waits this long first (default 0)",
         [](auto& c, auto v, auto w) { c.job_commit_delay = parse_duration(v, w); }},
        {"--graceful-signals", "SIGNALS", signal_group, "signals for graceful shutdown (default TERM,INT)",
         [](auto& c, auto v, auto w) { c.signals.graceful = parse_signal_list(v, w); }},
        {"--fast-signals", "SIGNALS", signal_group, "signals for fast shutdown (default QUIT)",
         [](auto& c, auto v, auto w) { c.signals.fast = parse_signal_list(v, w); }},
        {"--tracking", "on|off", testing, "on|off: off disables drain tracking, only to measure its cost (default on)",
         [](auto& c, auto v, auto w) {
             if (v != "on" && v != "off") throw UsageError(fmt::format("bad value for {}: '{}' (expected on or off)", w, v));
             c.tracking = v == "on";
         }},
        {"--fault", "FAULT", testing, "enable a deliberate bug (repeatable or comma list; see README)",
         [](auto& c, auto v, auto) { add_faults(c.faults, v); }},
        {"--control-fd", "FD", internal, "a prefork worker's channel to its master (set by the master)",
         [](auto& c, auto v, auto w) { c.control_fd = parse_number<int>(v, w, 0, 1 << 20); }, false},
        {"--shared-state-dir", "DIR", internal, "a prefork worker: the master's state dir, whose counter.db the workers share (set by the master)",
         [](auto& c, auto v, auto) { c.shared_state_dir = std::string(v); }, false},
        {"--job-owner", "NAME", internal, "a prefork worker: the owner of the jobs it creates (set by the master)",
         [](auto& c, auto v, auto) { c.job_owner = std::string(v); }, false},
    };
    return table;
}

// With --workers the counter is committed to a database all workers share, there is no checkpoint,
// and stream positions are not kept: a fault about either would change nothing, and a run with it
// would pass for the wrong reason.
void refuse_faults_without_meaning(const ServerConfig& config) {
    if (config.workers == 0 && config.shared_state_dir.empty()) return;
    static const std::pair<Fault, std::string_view> meaningless[] = {
        {Fault::checkpoint_early, "the workers commit the counter to a shared database and take no checkpoint"},
        {Fault::skip_checkpoint, "the workers commit the counter to a shared database and take no checkpoint"},
        {Fault::forget_stream_positions, "the workers keep no stream positions to forget"},
    };
    for (const auto& [fault, why] : meaningless) {
        if (!config.faults.has(fault)) continue;
        std::string_view name;
        for (const auto& info : all_faults()) {
            if (info.fault == fault) name = info.name;
        }
        throw UsageError(fmt::format("--fault {} cannot be used with --workers: {} (see README, Master and workers)", name, why));
    }
}

// LASTCALL_SERVER_DRAIN_BUDGET for --drain-budget.
std::string environment_name(std::string_view flag) {
    std::string name = "LASTCALL_SERVER_";
    for (const char ch : flag.substr(2)) name += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return name;
}

// The variables were LASTCALL_<FLAG> before they had the server's prefix: one still set would be
// ignored without a word, and the server would run with other budgets than its operator wrote.
void refuse_renamed_environment() {
    for (const auto& option : options()) {
        if (!option.from_environment) continue;
        const auto current = environment_name(option.flag);
        const auto old = "LASTCALL_" + current.substr(std::string_view("LASTCALL_SERVER_").size());
        if (const char* value = std::getenv(old.c_str()); value && *value) {
            throw UsageError(fmt::format("{} is now called {} (lastcall-server's environment variables start with LASTCALL_SERVER_)", old, current));
        }
    }
}

// Whether the flag is on the command line (else its value came from the environment: an error
// then names the variable the operator set).
bool on_command_line(std::string_view flag, int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == flag || (word.size() > flag.size() && word.substr(0, flag.size()) == flag && word[flag.size()] == '=')) return true;
    }
    return false;
}

// CLI11's errors in the words the tests and users know: "--threads needs a value".
std::string usage_message(const CLI::ParseError& error) {
    const std::string message = error.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&error)) {
        const auto colon = message.find(": ");
        const auto word = colon == std::string::npos ? message : message.substr(colon + 2, message.find(' ', colon + 2) - colon - 2);
        return word.rfind('-', 0) == 0 ? fmt::format("unknown option '{}'", word) : fmt::format("unexpected argument '{}'", word);
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) && message.find(" missing") != std::string::npos) {
        return message.substr(0, message.find(':')) + " needs a value";  // "--threads: 1 required N missing"
    }
    return message;
}

// Each option takes one value each time it is given, applied in order (the last wins; --fault adds).
void add_options(CLI::App& app, ServerConfig& config, int argc, const char* const* argv) {
    app.name("lastcall-server");
    app.description("The lastcall reference HTTP service: drains, finishes tasks, cleans up and checkpoints on shutdown.");
    app.add_flag("--version", config.show_version, "print the version and exit");
    for (const auto& option : options()) {
        const auto what = option.from_environment && !on_command_line(option.flag, argc, argv) && argv != nullptr
                              ? environment_name(option.flag)
                              : std::string(option.flag);
        auto* added = app.add_option_function<std::vector<std::string>>(
                             std::string(option.flag),
                             [&config, &option, what](const std::vector<std::string>& values) {
                                 for (const auto& value : values) option.apply(config, value, what);
                             },
                             std::string(option.help))
                          ->type_name(std::string(option.type))
                          ->group(std::string(option.group))
                          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                          ->allow_extra_args(false);
        if (option.from_environment) added->envname(environment_name(option.flag));
    }
    app.add_flag("--checkpoint-fallback", config.checkpoint_fallback,
                 "load the previous checkpoint generation (and replay the journal over it) if the current one is refused")
        ->group(std::string(state))
        ->envname(environment_name("--checkpoint-fallback"));
    app.footer("Durations: 250ms, 3s, 1m. Every option but those set by a master can also come from the environment,\n"
               "LASTCALL_SERVER_<OPTION> (--drain-budget: LASTCALL_SERVER_DRAIN_BUDGET=5s); the command line wins.\n"
               "Exit codes: 0 clean, 2 usage, 3 refused to start, 4 incomplete shutdown, 5 fast shutdown, 6 acknowledged\n"
               "state not made durable (checkpoint or journal failed), 7 (--workers) a worker killed at the graceful\n"
               "timeout or crashed while stopping.");
}

} // namespace

coordinator::Duration parse_duration(std::string_view text, std::string_view what) {
    static const std::map<std::string_view, coordinator::Duration> units{
        {"us", 1us}, {"ms", 1ms}, {"s", 1s}, {"m", 1min}, {"h", 1h}};
    const auto digits_end = text.find_first_not_of("0123456789");
    const auto digits = text.substr(0, digits_end);
    const auto unit = digits_end == std::string_view::npos ? std::string_view{} : text.substr(digits_end);
    std::uint64_t amount = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), amount);
    const auto found = units.find(unit);
    const bool zero = ec == std::errc{} && amount == 0 && unit.empty();
    if (zero) return coordinator::Duration::zero();
    if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() || found == units.end() ||
        amount > 1'000'000'000ULL) {
        throw UsageError(fmt::format("bad value for {}: '{}' (expected a duration like 250ms, 3s, 1m)", what, text));
    }
    return found->second * static_cast<std::int64_t>(amount);
}

ServerConfig parse_config(int argc, const char* const* argv) {
    refuse_renamed_environment();
    ServerConfig config;
    CLI::App app;
    add_options(app, config, argc, argv);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        config.show_help = true;
        return config;
    } catch (const CLI::ParseError& e) {
        throw UsageError(usage_message(e));
    }
    refuse_faults_without_meaning(config);
    return config;
}

std::string usage_text() {
    ServerConfig unused;
    CLI::App app;
    add_options(app, unused, 0, nullptr);
    return app.help();
}

} // namespace lastcall::server
