// `lastcall run SCENARIO_OR_DIR...`: every run of every scenario, its console report and reports.
// Exit 0 fine, 1 a check failed (a target that died before the first signal fails
// alive_until_signal), 2 a scenario is wrong, 3 a target could not be started or never became ready
// (or, with --strict, a run was skipped), 130 interrupted.
#include "run_command.hpp"
#include "shared_options.hpp"

#include "checks.hpp"
#include "command_line.hpp"
#include "live_view.hpp"
#include "reports.hpp"
#include "run_artifacts.hpp"
#include "run_record.hpp"
#include "scenario_run.hpp"
#include "signals.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace lastcall::cli {

namespace {

using namespace lastcall::harness;
namespace fs = std::filesystem;

// The words of the command line, as CLI11 fills them; read into RunOptions when the command runs.
struct RunArguments {
    std::vector<std::string> paths;
    std::string server;
    std::string run_dir;
    std::string seed;
    std::string repeat;
    std::string junit_file;
    std::string json_file;
    std::vector<std::string> target_args;
    std::vector<std::string> variables;
    bool strict = false;  // a run that was not made (skipped) fails the command (exit 3)
    bool quiet = false;   // only the final summary
    bool no_colour = false;
};

void add_run_options(CLI::App& run, RunArguments& a) {
    if (run.get_description().empty()) run.description("run scenarios against their targets and judge the shutdown");
    take_last_by_default(run);
    usage_needs(run, "SCENARIO_OR_DIR...");
    run.add_option("SCENARIO_OR_DIR", a.paths, "scenario files, or directories of them (*.yaml, *.yml)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run.add_option("--server", a.server, "what {server} in a target's command stands for (default: the lastcall-server beside lastcall)")
        ->type_name("PATH");
    run.add_option("--run-dir", a.run_dir, "where the run directories go (default runs/)")->type_name("DIR");
    run.add_option("--seed", a.seed, "the seed of the timelines' random choices, over the scenario's")->type_name("N");
    run.add_option("--repeat", a.repeat, "runs per scenario, over the scenario's repeat (1 to 10000)")->type_name("N");
    run.add_option("--junit", a.junit_file, "a JUnit XML report of every run; - is stdout")->type_name("FILE");
    run.add_option("--json", a.json_file, "a JSON report of every run; - is stdout (the console report then goes to stderr)")->type_name("FILE");
    run.add_option("--target-arg", a.target_args, "one more word for the target's command; repeatable")
        ->type_name("ARG")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    add_variable_option(run, a.variables);
    run.add_flag("--strict", a.strict, "a run that could not be made as asked (reported skipped) exits 3");
    run.add_flag("-q,--quiet", a.quiet, "only the final summary: no live view, no table per run");
    run.add_flag("--no-color", a.no_colour, "no colour (also when NO_COLOR is set in the environment)");
    run.footer("Each run also writes report.json and report.html in its run directory.\n"
               "Exit codes: 0 fine, 1 a check failed, 2 a scenario or the command line is wrong, 3 a target not started or\n"
               "not ready (or, with --strict, a run skipped), 130 interrupted.");
}

std::string outcome_summary(const RunResult& r) {
    std::string out;
    for (int i = 0; i < outcome_count; ++i) {
        if (r.outcomes[static_cast<std::size_t>(i)] == 0) continue;
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", to_string(static_cast<Outcome>(i)), r.outcomes[static_cast<std::size_t>(i)]);
    }
    return out.empty() ? "none" : out;
}

// A report to a file, or to stdout for "-".
void write_report(const std::string& file, const std::string& text) {
    if (file.empty()) return;
    try {
        write_output(file, text);
    } catch (const std::runtime_error&) {
        fmt::print(stderr, "lastcall: cannot write {}\n", file);
    }
}

int run_scenarios(const RunArguments& a) {
    if (a.json_file == "-" && a.junit_file == "-") throw std::invalid_argument("--json - and --junit -: only one report can go to stdout");
    RunOptions options;
    options.server_path = a.server.empty() ? default_server() : fs::absolute(a.server).string();
    if (!a.run_dir.empty()) options.run_root = a.run_dir;
    if (!a.seed.empty()) options.seed = whole_number("--seed", a.seed, 0, UINT64_MAX);
    const int repeat_override = a.repeat.empty() ? 0 : static_cast<int>(whole_number("--repeat", a.repeat, 1, 10'000));
    options.extra_target_args = a.target_args;
    const auto variables = apply_variables(a.variables);
    if (a.paths.empty()) throw std::invalid_argument("run needs at least one scenario file or directory");
    bool ok = true;
    const auto scenarios = load_all(a.paths, ok, variables, harness::ScenarioUse::run);
    if (!ok) return 2;
    // With a report on stdout, stdout holds it alone: what people read goes to stderr.
    std::FILE* const console = a.json_file == "-" || a.junit_file == "-" ? stderr : stdout;
    // https://no-color.org: NO_COLOR set and not empty means no colour, whatever the terminal.
    const char* no_color = std::getenv("NO_COLOR");
    const bool colour = ::isatty(fileno(console)) && !a.no_colour && !(no_color && *no_color);
    // On a terminal the live line is redrawn in place; in a log it is a plain line every 2 s.
    LiveView live(stderr, a.quiet ? LiveMode::off : ::isatty(STDERR_FILENO) ? LiveMode::redraw : LiveMode::lines, colour);
    options.interrupted = &interrupted;
    options.progress = [&live](const LiveStatus& status) { live.report(status); };
    int exit_code = 0;
    std::vector<lastcall::reports::RunVerdict> verdicts;
    std::string cut_short;  // the run an interrupt stopped: not judged, said after the summary
    options.adopt_orphans = true;  // main() made lastcall the child subreaper; it starts nothing but targets
    for (const auto& scenario : scenarios) {
        const int repeats = repeat_override > 0 ? repeat_override : scenario.repeat;
        options.repeats = repeats;
        for (int r = 0; r < repeats && !interrupted; ++r) {
            options.repeat_index = r;
            if (!a.quiet) fmt::print(console, "== {} ({}) run {}/{}\n", scenario.name, scenario.file, r + 1, repeats);
            std::fflush(console);
            auto result = run_scenario(scenario, options);
            live.end_run();
            if (result.interrupted) {
                // A run cut short proves nothing either way: it is not judged, and the user is told
                // so (a new user's Ctrl+C ended with '0 runs: 0 passed, 0 failed' alone).
                cut_short = fmt::format("{} run {}/{} was cut short and not judged", scenario.name, r + 1, repeats);
                if (!result.run_dir.empty()) cut_short += fmt::format(" (what it recorded: {})", result.run_dir.string());
                break;
            }
            lastcall::reports::RunVerdict verdict{&scenario, r, std::move(result), {}};
            if (!verdict.error().empty()) {  // said once: in the run's block below, or in the summary with --quiet
                exit_code = std::max(exit_code, 3);
            } else if (!verdict.run.skipped.empty()) {  // the console report says SKIP and why
                verdict.checks = evaluate_checks(scenario, verdict.run);
                if (a.strict) exit_code = std::max(exit_code, 3);
            } else {
                const auto& run = verdict.run;
                std::string signals;
                for (const auto& s : run.signals) signals += fmt::format(" {}@{:.3f}s{}", signal_name(s.signal), s.t_us / 1e6, s.delivered ? "" : "(not delivered)");
                if (!a.quiet) {
                    fmt::print(console, "   target {} at {:.3f}s; signals:{}; requests {}: {}\n", run.exit ? run.exit->describe() : "still running",
                               run.exit_us / 1e6, signals.empty() ? " none" : signals, run.requests, outcome_summary(run));
                    if (run.proxied) fmt::print(console, "   {}\n", proxy::describe(proxy::summarize(run.proxy_records)));
                }
                verdict.checks = evaluate_checks(scenario, verdict.run);
                if (!verdict.passed()) exit_code = std::max(exit_code, 1);
            }
            lastcall::reports::write_run_reports(verdict);
            lastcall::reports::keep_verdict(verdict);  // for `lastcall report RUN_DIR`
            if (!a.quiet) {
                fmt::print(console, "{}", lastcall::reports::console_report(verdict, colour));
                if (!verdict.run.run_dir.empty()) fmt::print(console, "   report {}\n", (verdict.run.run_dir / "report.html").string());
                if (const auto shortened = history_jsonl_shortened(verdict.run); !shortened.empty()) fmt::print(console, "   {}\n", shortened);
            }
            verdicts.push_back(std::move(verdict));
            std::fflush(console);
        }
    }
    // With --quiet the summary is all there is: no blank line before it.
    fmt::print(console, "{}{}", a.quiet ? "" : "\n", lastcall::reports::console_summary(verdicts, colour, !a.quiet));
    if (interrupted) {
        fmt::print(console, "Interrupted: {}{}\n", cut_short.empty() ? "no run was under way" : cut_short,
                   verdicts.empty() ? "" : "; the runs above finished and are judged");
    }
    std::fflush(console);
    if (!a.junit_file.empty()) write_report(a.junit_file, lastcall::reports::junit_report(verdicts));
    if (!a.json_file.empty()) write_report(a.json_file, lastcall::reports::json_suite_report(verdicts));
    return interrupted ? 130 : exit_code;
}

} // namespace

Command add_run_command(CLI::App& lastcall) {
    auto* run = lastcall.add_subcommand("run", "run scenarios against their targets and judge the shutdown");
    auto arguments = std::make_shared<RunArguments>();
    add_run_options(*run, *arguments);
    return {run, [arguments] { return run_scenarios(*arguments); }};
}

int run_with_arguments(const std::vector<std::string>& words) {
    CLI::App run("", "lastcall run");
    RunArguments arguments;
    add_run_options(run, arguments);
    if (!parse_arguments(run, join_dash_values(words))) return fmt::print("{}", run.help()), 0;
    return run_scenarios(arguments);
}

} // namespace lastcall::cli
