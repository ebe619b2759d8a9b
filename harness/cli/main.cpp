// lastcall: run scenarios against a target, validate and list them, or benchmark a URL.
// Exit codes (DESIGN.md): 0 fine, 1 a check failed, 2 the scenario or command line is wrong,
// 3 the target could not be started or never became ready (or, with --strict, a run was skipped),
// 130 interrupted.
#include "bench.hpp"
#include "signals.hpp"
#include "checks.hpp"
#include "explore/explore_loop.hpp"
#include "explore/explore_options.hpp"
#include "quick_scenario.hpp"
#include "reports.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/prctl.h>
#include <unistd.h>

namespace {

using namespace lastcall::harness;
namespace fs = std::filesystem;

std::atomic<bool> interrupted{false};

void on_interrupt(int) { interrupted = true; }  // only a flag: the run loop cleans up

constexpr const char* usage =
    "usage: lastcall COMMAND ...\n"
    "  run SCENARIO_OR_DIR... [--server PATH] [--run-dir DIR] [--seed N] [--repeat N]\n"
    "      [--junit FILE] [--json FILE] [--target-arg ARG]... [--var NAME=VALUE]... [--strict]\n"
    "      (each run also writes report.json/.html; --var sets ${NAME} in the scenarios, over the environment;\n"
    "      --strict: a run that could not be made as asked, reported skipped, exits 3)\n"
    "  check [options] -- COMMAND ARGS...   no YAML: default load, graceful signal, default checks\n"
    "      (lastcall check --help; --print-scenario writes the equivalent scenario)\n"
    "  validate FILE_OR_DIR... [--var NAME=VALUE]...   check scenarios; exit 0 or 2\n"
    "  explore SCENARIO [--budget 5m] [--seed N] [--out DIR] ...   search for failures nobody scripted, shrink each\n"
    "      (lastcall explore --help; exit 1 when a failure was found)\n"
    "  list [DIR...]                each scenario with its description (default: scenarios/)\n"
    "  bench URL [-c N] [-t N] [-d 10s] [--rate R] [-H 'Name: value']... [--latency] [--json] ...\n"
    "      (lastcall bench --help; its own exit codes: 0 all answered 2xx/3xx, 1 some failed, non-2xx or skipped, 2 usage,\n"
    "       3 none answered, 130/143 stopped by SIGINT/SIGTERM)\n"
    "  --help, --version\n"
    "exit codes: 0 fine, 1 a check failed, 2 scenario or command line wrong, 3 target not started or not ready\n";

std::string default_server() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    for (const auto& candidate : {self.parent_path() / "lastcall-server", self.parent_path().parent_path() / "reference-server/app/lastcall-server"}) {
        if (!ec && fs::exists(candidate)) return candidate.string();
    }
    return "lastcall-server";
}

std::vector<Scenario> load_all(const std::vector<std::string>& paths, bool& ok, const ScenarioVariables& variables = {}) {
    std::vector<Scenario> scenarios;
    for (const auto& file : scenario_files(paths)) {
        try {
            scenarios.push_back(load_scenario_file(file, variables));
        } catch (const ScenarioError& e) {
            fmt::print(stderr, "{}\n", e.what());
            ok = false;
        }
    }
    return scenarios;
}

std::string outcome_summary(const RunResult& r) {
    std::string out;
    for (int i = 0; i < outcome_count; ++i) {
        if (r.outcomes[static_cast<std::size_t>(i)] == 0) continue;
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", to_string(static_cast<Outcome>(i)), r.outcomes[static_cast<std::size_t>(i)]);
    }
    return out.empty() ? "none" : out;
}

// --var NAME=VALUE: what ${NAME} stands for in the scenarios (over the environment).
void add_variable(ScenarioVariables& variables, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == 0 || eq == std::string::npos) throw std::invalid_argument("--var takes NAME=VALUE, not '" + assignment + "'");
    variables.values[assignment.substr(0, eq)] = assignment.substr(eq + 1);
}

int command_run(const std::vector<std::string>& args) {
    std::vector<std::string> paths;
    ScenarioVariables variables;
    RunOptions options;
    options.server_path = default_server();
    int repeat_override = 0;
    bool strict = false;  // a run that was not made (skipped) fails the command (exit 3)
    std::string junit_file, json_file;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "--server") options.server_path = fs::absolute(value()).string();
        else if (a == "--run-dir") options.run_root = value();
        else if (a == "--seed") options.seed = std::stoull(value());
        else if (a == "--repeat") repeat_override = std::stoi(value());
        else if (a == "--junit") junit_file = value();
        else if (a == "--json") json_file = value();
        else if (a == "--target-arg") options.extra_target_args.push_back(value());
        else if (a == "--var") add_variable(variables, value());
        else if (a == "--strict") strict = true;
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
        else paths.push_back(a);
    }
    if (paths.empty()) throw std::invalid_argument("run needs at least one scenario file or directory");
    bool ok = true;
    const auto scenarios = load_all(paths, ok, variables);
    if (!ok) return 2;
    const bool tty = ::isatty(STDERR_FILENO) && ::isatty(STDOUT_FILENO);
    options.interrupted = &interrupted;
    if (tty) options.status = [](const std::string& line) { fmt::print(stderr, "\r\033[K{}", line); };
    int exit_code = 0;
    std::vector<lastcall::reports::RunVerdict> verdicts;
    options.adopt_orphans = true;  // main() made lastcall the child subreaper; it starts nothing but targets
    for (const auto& scenario : scenarios) {
        const int repeats = repeat_override > 0 ? repeat_override : scenario.repeat;
        options.repeats = repeats;
        for (int r = 0; r < repeats && !interrupted; ++r) {
            options.repeat_index = r;
            fmt::print("== {} ({}) run {}/{}\n", scenario.name, scenario.file, r + 1, repeats);
            std::fflush(stdout);
            auto result = run_scenario(scenario, options);
            if (tty) fmt::print(stderr, "\r\033[K");
            if (result.interrupted) break;
            lastcall::reports::RunVerdict verdict{&scenario, r, std::move(result), {}};
            if (!verdict.error().empty()) {
                fmt::print(stderr, "lastcall: {}: {}\n", scenario.name, verdict.error());
                exit_code = std::max(exit_code, 3);
            } else if (!verdict.run.skipped.empty()) {  // the console report says SKIP and why
                verdict.checks = evaluate_checks(scenario, verdict.run);
                if (strict) exit_code = std::max(exit_code, 3);
            } else {
                const auto& run = verdict.run;
                std::string signals;
                for (const auto& s : run.signals) signals += fmt::format(" {}@{:.3f}s{}", signal_name(s.signal), s.t_us / 1e6, s.delivered ? "" : "(not delivered)");
                fmt::print("   target {} at {:.3f}s; signals:{}; requests {}: {}\n", run.exit ? run.exit->describe() : "still running",
                           run.exit_us / 1e6, signals.empty() ? " none" : signals, run.requests, outcome_summary(run));
                if (run.proxied) fmt::print("   {}\n", proxy::describe(proxy::summarize(run.proxy_records)));
                verdict.checks = evaluate_checks(scenario, verdict.run);
                if (!verdict.passed()) exit_code = std::max(exit_code, 1);
            }
            lastcall::reports::write_run_reports(verdict);
            fmt::print("{}", lastcall::reports::console_report(verdict, tty));
            if (!verdict.run.run_dir.empty()) fmt::print("   report {}\n", (verdict.run.run_dir / "report.html").string());
            verdicts.push_back(std::move(verdict));
            std::fflush(stdout);
        }
    }
    fmt::print("{}", lastcall::reports::console_summary(verdicts, tty));
    if (!junit_file.empty()) std::ofstream(junit_file) << lastcall::reports::junit_report(verdicts);
    if (!json_file.empty()) std::ofstream(json_file) << lastcall::reports::json_suite_report(verdicts);
    return interrupted ? 130 : exit_code;
}

// No YAML: the options become a scenario file kept in the run root, run like any other.
int command_check(const std::vector<std::string>& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) return fmt::print("{}", quick_usage()), 0;
    const auto quick = parse_quick_options(args);
    if (quick.print_scenario) return fmt::print("{}", quick_scenario_yaml(quick)), 0;
    fmt::print(stderr, "{}", quick_port_hint(quick));
    return command_run(prepare_quick_run(quick));
}

int command_validate(const std::vector<std::string>& args) {
    ScenarioVariables variables;
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] != "--var") paths.push_back(args[i]);
        else if (i + 1 < args.size()) add_variable(variables, args[++i]);
        else throw std::invalid_argument("--var needs a value");
    }
    if (paths.empty()) throw std::invalid_argument("validate needs at least one file or directory");
    bool ok = true;
    const auto scenarios = load_all(paths, ok, variables);
    for (const auto& s : scenarios) fmt::print("ok  {} ({})\n", s.file, s.name);
    return ok ? 0 : 2;
}

int command_list(const std::vector<std::string>& args) {
    bool ok = true;
    const auto scenarios = load_all(args.empty() ? std::vector<std::string>{"scenarios"} : args, ok);
    for (const auto& s : scenarios) fmt::print("{:<28} {}\n", s.name, s.description);
    return ok ? 0 : 2;
}

// A thin branch until the CLI's subcommands have files of their own (harness/explore/).
int command_explore(const std::vector<std::string>& args) {
    namespace explore = lastcall::harness::explore;
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) return fmt::print("{}", explore::explore_usage()), 0;
    auto options = explore::parse_explore_options(args);
    if (options.run.server_path.empty()) options.run.server_path = default_server();
    try {
        return explore::run_explore(options, &interrupted);
    } catch (const ScenarioError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    }
}

} // namespace

int main(int argc, char** argv) {
    // Orphans of the target are re-parented to lastcall, not to init: it can find and reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> all(argv + 1, argv + argc);
    if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
        fmt::print("{}", usage);
        return all.empty() ? 2 : 0;
    }
    if (all[0] == "--version") {
        fmt::print("lastcall 0.1.0\n");
        return 0;
    }
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    try {
        if (all[0] == "run") return command_run(rest);
        if (all[0] == "check") return command_check(rest);
        if (all[0] == "validate") return command_validate(rest);
        if (all[0] == "list") return command_list(rest);
        if (all[0] == "explore") return command_explore(rest);
        if (all[0] == "bench") return run_bench(rest);
        throw std::invalid_argument("unknown command '" + all[0] + "'");
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "lastcall: {}\n\n{}", e.what(), all[0] == "bench" ? bench_usage() : all[0] == "check" ? quick_usage() : all[0] == "explore" ? lastcall::harness::explore::explore_usage() : usage);
        return 2;
    } catch (const std::out_of_range& e) {
        fmt::print(stderr, "lastcall: a number is out of range ({})\n", e.what());
        return 2;
    }
}
