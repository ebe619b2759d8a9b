// `lastcall explore SCENARIO`: trials from a scenario, each failure shrunk to a minimal scenario
// (harness/explore/). Exit 0 nothing failed, 1 a failure was found, 2 the scenario or the command
// line is wrong, 3 the target never started, 130 interrupted.
#include "shared_options.hpp"

#include "command_line.hpp"
#include "explore/explore_loop.hpp"
#include "explore/explore_options.hpp"
#include "scenario_error.hpp"

#include <fmt/format.h>

#include <memory>

namespace lastcall::cli {

namespace {

struct ExploreArguments {
    harness::explore::ExploreWords words;
    std::vector<std::string> variables;
};

int explore(const ExploreArguments& a) {
    auto options = harness::explore::read_explore_options(a.words);
    options.variables = apply_variables(a.variables);
    if (options.run.server_path.empty()) options.run.server_path = default_server();
    try {
        return harness::explore::run_explore(options, &interrupted);
    } catch (const harness::ScenarioError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    }
}

} // namespace

Command add_explore_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("explore", "search for shutdown failures nobody scripted; shrink each to a minimal scenario");
    auto a = std::make_shared<ExploreArguments>();
    auto& w = a->words;
    harness::take_last_by_default(*command);
    command->add_option("SCENARIO", w.scenario, "the scenario to start from: its target, workloads and expectations")->required();
    command->add_option("--budget", w.budget,
                        "how long to explore, shrinking included (default 5m); each finding's --reruns come after it")
        ->type_name("D");
    command->add_option("--seed", w.seed, "the seed of every trial's choices (default 1)")->type_name("N");
    command->add_option("--out", w.out, "where trials, findings, runs and explore.json go (default explore/; empty or an earlier explore's)")
        ->type_name("DIR");
    command->add_option("--reruns", w.reruns, "re-runs of each minimal scenario: it fails k of n (default 5)")->type_name("N");
    command->add_option("--shrink-runs", w.shrink_runs, "runs at most per shrink (default 60)")->type_name("N");
    command->add_option("--server", w.server, "what {server} stands for (default: the lastcall-server beside lastcall)")->type_name("PATH");
    command->add_option("--target-arg", w.target_args, "one more word for the target's command, written into every trial; repeatable")
        ->type_name("ARG")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    add_variable_option(*command, a->variables);
    command->add_option("--fast-signal", w.fast_signal, "the target's fast-shutdown signal; the `fast` sequence is tried only with it")
        ->type_name("SIG");
    command->add_option("--graceful-signal", w.graceful_signal, "the graceful signal (default: the scenario's, else TERM)")->type_name("SIG");
    command->add_option("--latest", w.latest, "the latest moment of the first signal (default: a third of limits.max_duration)")
        ->type_name("D");
    command->add_option("--max-connections", w.max_connections, "most connections per closed workload (default: the scenario's)")
        ->type_name("N");
    command->add_option("--max-rate", w.max_rate, "highest rate per open workload (default: the scenario's)")->type_name("R");
    command->footer("Trials vary the workload mix, connections and rates, the first signal's moment and the signal sequence\n"
                    "(graceful; then SIGKILL; twice; STOP/CONT while draining; the fast signal). A failure of a new kind is\n"
                    "shrunk (each step a real run, within the budget), written to DIR/findings/NAME.yaml for `lastcall run`,\n"
                    "and re-run --reruns times (past the budget: a 1m budget with two findings took 2 min). Report: stdout and DIR/explore.json (harness/README.md).\n"
                    "Exit codes: 0 nothing failed, 1 a failure was found, 2 a scenario or the command line is wrong, 3 the target\n"
                    "never started, 130 interrupted (what was found so far is reported).");
    return {command, [a] { return explore(*a); }};
}

} // namespace lastcall::cli
