#pragma once
// What lastcall's subcommands share: the shape of a subcommand (one file each, registered by
// main.cpp), --var, numbers read with a clear error, the scenario files of a list of paths, and the
// reference server next to this binary.
#include "scenario.hpp"
#include "scenario_loader.hpp"
#include "scenario_variables.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::cli {

// A subcommand: its CLI11 app, whose options write into state the runner owns, and what runs it
// once the command line is parsed. Throws std::invalid_argument for input CLI11 could not judge
// (main prints it with the subcommand's help hint, exit 2).
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

// One per file: cli/<name>_command.cpp.
Command add_run_command(CLI::App& lastcall);
Command add_check_command(CLI::App& lastcall);
Command add_validate_command(CLI::App& lastcall);
Command add_list_command(CLI::App& lastcall);
Command add_bench_command(CLI::App& lastcall);
Command add_diff_command(CLI::App& lastcall);
Command add_explore_command(CLI::App& lastcall);
Command add_report_command(CLI::App& lastcall);

// `lastcall check WORDS...`, which reads its own words (check_command.cpp).
int run_check(const std::vector<std::string>& words);

// Set by main's SIGINT/SIGTERM handler (only a flag: the run loop kills the target and cleans up).
extern std::atomic<bool> interrupted;

// "--target-arg --fault" -> "--target-arg=--fault" (also --body): CLI11 would take a value that
// starts with a dash for an option. Words after "--" (a target's command) are left as they are.
std::vector<std::string> join_dash_values(std::vector<std::string> words);

// `--seed abc` -> "--seed: 'abc' is not a whole number"; below `min` or above `max` said as such.
std::uint64_t whole_number(std::string_view option, const std::string& text, std::uint64_t min, std::uint64_t max);

// --var NAME=VALUE, repeatable: what ${NAME} stands for in the scenarios (over the environment).
// The values are checked when the command runs (apply_variables).
CLI::Option* add_variable_option(CLI::App& app, std::vector<std::string>& assignments);
harness::ScenarioVariables apply_variables(const std::vector<std::string>& assignments);

// Every scenario under `paths`; a file that does not load is printed on stderr (file:line:column:
// why) and makes `ok` false, and the others are still read. `use`: what they are read for
// (scenario_loader.hpp: `run` refuses a scenario that tests no shutdown).
std::vector<harness::Scenario> load_all(const std::vector<std::string>& paths, bool& ok, const harness::ScenarioVariables& variables,
                                        harness::ScenarioUse use);

// lastcall-server beside this binary (installed) or in the build tree; else found on PATH.
std::string default_server();

// Writes `text` to `file`, or to stdout for "-". Throws std::runtime_error naming the file.
void write_output(const std::string& file, const std::string& text);

} // namespace lastcall::cli
