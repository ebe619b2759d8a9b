// `lastcall validate FILE_OR_DIR...`: every scenario read as a run would read it; exit 0 or 2.
#include "shared_options.hpp"

#include <fmt/format.h>

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
    const auto scenarios = load_all(a.paths, ok, variables);
    for (const auto& s : scenarios) fmt::print("ok  {} ({})\n", s.file, s.name);
    return ok ? 0 : 2;
}

} // namespace

Command add_validate_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("validate", "check scenario files without running them; exit 0 or 2");
    auto arguments = std::make_shared<ValidateArguments>();
    command->add_option("FILE_OR_DIR", arguments->paths, "scenario files, or directories of them")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    add_variable_option(*command, arguments->variables);
    command->footer("Each file that does not load is one line on stderr: file:line:column: what is wrong.\n"
                    "Exit codes: 0 every file loads, 2 one does not or the command line is wrong.");
    return {command, [arguments] { return validate(*arguments); }};
}

} // namespace lastcall::cli
