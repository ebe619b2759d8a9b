#include "judged_run.hpp"

#include "child_process.hpp"
#include "scenario_loader.hpp"
#include "test_dir.hpp"

namespace lastcall::harness {

RunOptions test_run_options(const std::string& dir_suffix) {
    RunOptions options;
    options.server_path = lastcall::testing::server_binary();
    options.run_dir = lastcall::testing::fresh_test_dir(dir_suffix);
    return options;
}

RunResult run_and_judge(const std::string& scenario_text, std::vector<CheckResult>& checks, const std::string& dir_suffix) {
    const auto parsed = load_scenario_text(scenario_text, "test.yaml");
    auto result = run_scenario(parsed, test_run_options(dir_suffix));
    checks = evaluate_checks(parsed, result);
    return result;
}

} // namespace lastcall::harness
