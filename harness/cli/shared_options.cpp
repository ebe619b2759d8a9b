#include "shared_options.hpp"

#include "scenario_error.hpp"
#include "scenario_loader.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace lastcall::cli {

namespace fs = std::filesystem;
using namespace lastcall::harness;

std::atomic<bool> interrupted{false};

std::vector<std::string> join_dash_values(std::vector<std::string> words) {
    std::vector<std::string> joined;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i] == "--") {
            joined.insert(joined.end(), words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
            break;
        }
        const bool takes_any_word = words[i] == "--target-arg" || words[i] == "--body";
        if (takes_any_word && i + 1 < words.size()) {
            joined.push_back(words[i] + "=" + words[i + 1]);
            ++i;
        } else {
            joined.push_back(std::move(words[i]));
        }
    }
    return joined;
}

std::uint64_t whole_number(std::string_view option, const std::string& text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && end == text.data() + text.size() && value > max)) {
        throw std::invalid_argument(fmt::format("{}: '{}' is too large (at most {})", option, text, max));
    }
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        throw std::invalid_argument(fmt::format("{}: '{}' is not a whole number", option, text));
    }
    if (value < min) throw std::invalid_argument(fmt::format("{}: '{}' is too small (at least {})", option, text, min));
    return value;
}

CLI::Option* add_variable_option(CLI::App& app, std::vector<std::string>& assignments) {
    return app.add_option("--var", assignments, "sets ${NAME} in the scenarios, over the environment; repeatable")
        ->type_name("NAME=VALUE")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
}

ScenarioVariables apply_variables(const std::vector<std::string>& assignments) {
    ScenarioVariables variables;
    for (const auto& assignment : assignments) {
        const auto eq = assignment.find('=');
        if (eq == 0 || eq == std::string::npos) throw std::invalid_argument("--var takes NAME=VALUE, not '" + assignment + "'");
        variables.values[assignment.substr(0, eq)] = assignment.substr(eq + 1);
    }
    return variables;
}

std::vector<Scenario> load_all(const std::vector<std::string>& paths, bool& ok, const ScenarioVariables& variables, ScenarioUse use) {
    std::vector<Scenario> scenarios;
    for (const auto& file : scenario_files(paths)) {
        try {
            scenarios.push_back(load_scenario_file(file, variables, use));
        } catch (const ScenarioError& e) {
            fmt::print(stderr, "{}\n", e.what());
            ok = false;
        }
    }
    return scenarios;
}

std::string default_server() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    for (const auto& candidate : {self.parent_path() / "lastcall-server", self.parent_path().parent_path() / "reference-server/app/lastcall-server"}) {
        if (!ec && fs::exists(candidate)) return candidate.string();
    }
    return "lastcall-server";
}

void write_output(const std::string& file, const std::string& text) {
    if (file == "-") {
        fmt::print(stdout, "{}", text);
        std::fflush(stdout);
        return;
    }
    std::ofstream out(file, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error(fmt::format("{}: cannot be written", file));
}

} // namespace lastcall::cli
