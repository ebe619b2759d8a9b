// `lastcall validate FILE_OR_DIR...`: every scenario read as a run would read it; exit 0 or 2.
#include "command_line.hpp"
#include "explore/target_shapes.hpp"
#include "scenario_error.hpp"
#include "shared_options.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace lastcall::cli {

namespace {

struct ValidateArguments {
    std::vector<std::string> paths;
    std::vector<std::string> variables;
};

int validate(const ValidateArguments& a) {
    const auto variables = apply_variables(a.variables);
    if (a.paths.empty()) throw std::invalid_argument("validate needs at least one file or directory");
    bool ok = true;
    const auto scenarios = load_all(a.paths, ok, variables, harness::ScenarioUse::validate);
    for (const auto& s : scenarios) {
        // The target shapes of an explore: section are read as `lastcall explore` reads them.
        std::ifstream in(s.file, std::ios::binary);
        try {
            const auto shapes = harness::explore::read_target_shapes({std::istreambuf_iterator<char>(in), {}}, s.file, variables);
            if (shapes.size() > 1) fmt::print("ok  {} ({}, {} target shapes for explore)\n", s.file, s.name, shapes.size() - 1);
            else fmt::print("ok  {} ({})\n", s.file, s.name);
        } catch (const harness::ScenarioError& e) {
            fmt::print(stderr, "{}\n", e.what());
            ok = false;
        }
    }
    return ok ? 0 : 2;
}

} // namespace

Command add_validate_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("validate", "check scenario files without running them; exit 0 or 2");
    auto arguments = std::make_shared<ValidateArguments>();
    command->add_option("FILE_OR_DIR", arguments->paths, "scenario files, or directories of them")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    add_variable_option(*command, arguments->variables);
    harness::usage_needs(*command, "FILE_OR_DIR...");
    command->footer("Each file that does not load is one line on stderr: file:line:column: what is wrong.\n"
                    "Exit codes: 0 every file loads, 2 one does not or the command line is wrong.");
    return {command, [arguments] { return validate(*arguments); }};
}

} // namespace lastcall::cli
