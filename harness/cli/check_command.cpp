// `lastcall check [options] -- COMMAND ARGS...`: no YAML. The options become a scenario file kept
// in the run root, run like any other (quick_scenario.hpp). Its options are read by
// parse_quick_options, whose messages already name the option and the value; CLI11 only lists the
// subcommand: main hands check its words untouched (a target's command after -- holds any word,
// --help included, and CLI11 would take some of them for its own).
#include "run_command.hpp"
#include "shared_options.hpp"

#include "quick_scenario.hpp"

#include <fmt/format.h>

namespace lastcall::cli {

int run_check(const std::vector<std::string>& words) {
    if (!words.empty() && (words[0] == "--help" || words[0] == "-h")) return fmt::print("{}", harness::quick_usage()), 0;
    const auto quick = harness::parse_quick_options(words);
    if (quick.print_scenario) return fmt::print("{}", harness::quick_scenario_yaml(quick)), 0;
    fmt::print(stderr, "{}", harness::quick_port_hint(quick));
    return run_with_arguments(harness::prepare_quick_run(quick));
}

Command add_check_command(CLI::App& lastcall) {
    auto* check = lastcall.add_subcommand("check", "test a server's shutdown without a scenario file (lastcall check --help)");
    check->prefix_command();
    check->set_help_flag();
    return {check, [check] { return run_check(check->remaining()); }};
}

} // namespace lastcall::cli
