#include "config.hpp"

#include <fmt/format.h>

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

// One table drives flags, environment variables and the usage text.
struct Option {
    std::string_view flag;
    std::string_view env;  // empty: no environment variable
    std::string_view help;
    std::function<void(ServerConfig&, std::string_view value, std::string_view what)> apply;
};

const std::vector<Option>& options() {
    static const std::vector<Option> table{
        {"--host", "LASTCALL_HOST", "address to listen on (default 127.0.0.1)",
         [](auto& c, auto v, auto) { c.host = std::string(v); }},
        {"--port", "LASTCALL_PORT", "port, 0 = any free port (default 8080)",
         [](auto& c, auto v, auto w) { c.port = parse_number<unsigned short>(v, w, 0, 65535); }},
        {"--listen-fd", "LASTCALL_LISTEN_FD", "serve this inherited listening socket instead of binding --host/--port",
         [](auto& c, auto v, auto w) { c.listen_fd = parse_number<int>(v, w, 0, 1 << 20); }},
        {"--control-fd", "", "a prefork worker's channel to its master (set by the master)",
         [](auto& c, auto v, auto w) { c.control_fd = parse_number<int>(v, w, 0, 1 << 20); }},
        {"--threads", "LASTCALL_THREADS", "I/O threads (default 2)",
         [](auto& c, auto v, auto w) { c.threads = parse_number<unsigned>(v, w, 1, 256); }},
        {"--workers", "LASTCALL_WORKERS", "a master and N worker processes sharing the listener, 0 = one process (default 0)",
         [](auto& c, auto v, auto w) { c.workers = parse_number<unsigned>(v, w, 0, 64); }},
        {"--graceful-timeout", "LASTCALL_GRACEFUL_TIMEOUT", "--workers: workers still alive this long after the signal are killed (default global budget + 2s)",
         [](auto& c, auto v, auto w) { c.graceful_timeout = parse_duration(v, w); }},
        {"--worker-boot-timeout", "LASTCALL_WORKER_BOOT_TIMEOUT", "--workers: a worker must be ready within (default 10s)",
         [](auto& c, auto v, auto w) { c.worker_boot_timeout = parse_duration(v, w); }},
        {"--shared-state-dir", "", "a prefork worker: the master's state dir, whose counter.db the workers share (set by the master)",
         [](auto& c, auto v, auto) { c.shared_state_dir = std::string(v); }},
        {"--job-owner", "", "a prefork worker: the owner of the jobs it creates (set by the master)",
         [](auto& c, auto v, auto) { c.job_owner = std::string(v); }},
        {"--state-dir", "LASTCALL_STATE_DIR", "checkpoint, jobs database, shutdown-report.json (default ./lastcall-state)",
         [](auto& c, auto v, auto) { c.state_dir = std::string(v); }},
        {"--global-budget", "LASTCALL_GLOBAL_BUDGET", "whole shutdown deadline (default 30s)",
         [](auto& c, auto v, auto w) { c.budgets.global = parse_duration(v, w); }},
        {"--drain-delay", "LASTCALL_DRAIN_DELAY", "keep accepting while /ready fails (default 0s)",
         [](auto& c, auto v, auto w) { c.budgets.drain_delay = parse_duration(v, w); }},
        {"--drain-budget", "LASTCALL_DRAIN_BUDGET", "in-flight requests and streams (default 20s)",
         [](auto& c, auto v, auto w) { c.budgets.drain = parse_duration(v, w); }},
        {"--stream-grace", "LASTCALL_STREAM_GRACE", "streams get their end event after (default 500ms)",
         [](auto& c, auto v, auto w) { c.budgets.stream_grace = parse_duration(v, w); }},
        {"--task-budget", "LASTCALL_TASK_BUDGET", "background tasks finish on their own (default 5s)",
         [](auto& c, auto v, auto w) { c.budgets.tasks = parse_duration(v, w); }},
        {"--task-cancel-grace", "LASTCALL_TASK_CANCEL_GRACE", "cancelled tasks wind down (default 1s)",
         [](auto& c, auto v, auto w) { c.budgets.task_cancel_grace = parse_duration(v, w); }},
        {"--cleanup-budget", "LASTCALL_CLEANUP_BUDGET", "closing resources (default 5s)",
         [](auto& c, auto v, auto w) { c.budgets.cleanup = parse_duration(v, w); }},
        {"--close-linger", "LASTCALL_CLOSE_LINGER", "draining holds a keep-alive connection this long for a request on its way (default 200ms)",
         [](auto& c, auto v, auto w) { c.budgets.close_linger = parse_duration(v, w); }},
        {"--journal-compact-bytes", "LASTCALL_JOURNAL_COMPACT_BYTES", "checkpoint and compact the journal when it grew this much, 0 = only at shutdown (default 4194304)",
         [](auto& c, auto v, auto w) { c.journal_compact_bytes = parse_number<std::uint64_t>(v, w, 0, 1ULL << 40); }},
        {"--header-timeout", "LASTCALL_HEADER_TIMEOUT", "a started request's header and body (default 10s)",
         [](auto& c, auto v, auto w) { c.header_timeout = parse_duration(v, w); }},
        {"--idle-timeout", "LASTCALL_IDLE_TIMEOUT", "idle keep-alive connection (default 60s)",
         [](auto& c, auto v, auto w) { c.idle_timeout = parse_duration(v, w); }},
        {"--job-commit-delay", "", "a stalled disk, for tests: each jobs-database call waits this long first (default 0)",
         [](auto& c, auto v, auto w) { c.job_commit_delay = parse_duration(v, w); }},
        {"--graceful-signals", "LASTCALL_GRACEFUL_SIGNALS", "signals for graceful shutdown (default TERM,INT)",
         [](auto& c, auto v, auto w) { c.signals.graceful = parse_signal_list(v, w); }},
        {"--fast-signals", "LASTCALL_FAST_SIGNALS", "signals for fast shutdown (default QUIT)",
         [](auto& c, auto v, auto w) { c.signals.fast = parse_signal_list(v, w); }},
        {"--tracking", "", "on|off: off disables drain tracking, only to measure its cost (default on)",
         [](auto& c, auto v, auto w) {
             if (v != "on" && v != "off") throw UsageError(fmt::format("bad value for {}: '{}' (expected on or off)", w, v));
             c.tracking = v == "on";
         }},
        {"--fault", "LASTCALL_FAULT", "enable a deliberate bug (repeatable or comma list; see README)",
         [](auto& c, auto v, auto) { add_faults(c.faults, v); }},
    };
    return table;
}

const Option* find_option(std::string_view flag) {
    for (const auto& option : options()) {
        if (option.flag == flag) return &option;
    }
    return nullptr;
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
    ServerConfig config;
    for (const auto& option : options()) {
        if (option.env.empty()) continue;
        if (const char* value = std::getenv(std::string(option.env).c_str()); value && *value) {
            option.apply(config, value, option.env);
        }
    }
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            config.show_help = true;
            continue;
        }
        if (arg == "--version") {
            config.show_version = true;
            continue;
        }
        if (arg == "--checkpoint-fallback") {
            config.checkpoint_fallback = true;
            continue;
        }
        std::string_view value;
        bool has_value = false;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const auto* option = find_option(arg);
        if (!option) throw UsageError(fmt::format("unknown option '{}'", arg));
        if (!has_value) {
            if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", arg));
            value = argv[++i];
        }
        option->apply(config, value, option->flag);
    }
    refuse_faults_without_meaning(config);
    return config;
}

std::string usage_text() {
    std::string text =
        "usage: lastcall-server [options]\n"
        "The lastcall reference HTTP service: drains, finishes tasks, cleans up and checkpoints on shutdown.\n\n";
    for (const auto& option : options()) {
        text += fmt::format("  {:<22} {}{}\n", fmt::format("{} V", option.flag), option.help,
                            option.env.empty() ? "" : fmt::format(" [{}]", option.env));
    }
    text += fmt::format("  {:<22} {}\n", "--checkpoint-fallback", "load the previous checkpoint generation (and replay the journal over it) if the current one is refused");
    text += fmt::format("  {:<22} {}\n", "--help, --version", "");
    text += "Durations: 250ms, 3s, 1m. Exit codes: 0 clean, 2 usage, 3 refused to start, 4 incomplete shutdown,\n"
            "5 fast shutdown, 6 acknowledged state not made durable (checkpoint or journal failed),\n"
            "7 (--workers) a worker killed at the graceful timeout or crashed while stopping.\n";
    return text;
}

} // namespace lastcall::server
