// `lastcall list [DIR...]`: each scenario with its description.
#include "shared_options.hpp"

#include <fmt/format.h>

#include <memory>

namespace lastcall::cli {

Command add_list_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("list", "each scenario with its description (default: scenarios/)");
    auto paths = std::make_shared<std::vector<std::string>>();
    command->add_option("DIR", *paths, "directories or files of scenarios (default scenarios)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    return {command, [paths] {
                bool ok = true;
                const auto scenarios = load_all(paths->empty() ? std::vector<std::string>{"scenarios"} : *paths, ok, {}, harness::ScenarioUse::validate);
                for (const auto& s : scenarios) fmt::print("{:<28} {}\n", s.name, s.description);
                return ok ? 0 : 2;
            }};
}

} // namespace lastcall::cli
