// generic.yaml's target shapes on real processes, each written as a trial explore would run (a
// plain SIGTERM at 1 s, every workload but the endless SSE and the idle ones) and run by
// `lastcall run`: each catches the faulty mode it exists for with the check that judges it, and the
// correct server passes every check.
#include "child_process.hpp"
#include "explore/target_shapes.hpp"
#include "explore/trial_generator.hpp"
#include "explore/trial_yaml.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iterator>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using namespace lastcall::harness::explore;
using std::chrono::milliseconds;

const std::string generic = std::string(LASTCALL_SCENARIOS_DIR) + "/explore/generic.yaml";

std::vector<TargetShape> shapes() {
    std::ifstream in(generic);
    return read_target_shapes({std::istreambuf_iterator<char>(in), {}}, generic);
}

Trial plain_trial(const std::vector<TargetShape>& all, std::size_t shape) {
    Trial t;
    t.seed = 1;
    t.shape = shape;
    t.shape_name = all[shape].name;
    for (const auto& w : all[shape].scenario.workloads) {
        if (w.name == "sse" || w.name == "idle") continue;
        const bool own = std::find(all[shape].own_workloads.begin(), all[shape].own_workloads.end(), w.name) != all[shape].own_workloads.end();
        t.workloads.push_back(TrialWorkload{w.name, own ? 2 : 1, 0});
    }
    // Streams of the resume shape (2 s) are then a second from their end: more than the drain
    // delay and the stream grace, so shutdown ends them (what streams_resumed needs).
    t.moment.at = milliseconds(1000);
    t.kept_entries = own_entries(all[shape].scenario);
    return t;
}

// The checks of the run as `lastcall run --json` reported them: name -> status.
std::map<std::string, std::string> run_checks(const fs::path& file, const fs::path& dir) {
    run_to_end({LASTCALL_BINARY, "run", file.string(), "--server", server_binary(), "--run-dir", (dir / "runs").string(), "--json",
                (dir / "run.json").string()},
               dir / "lastcall.stderr", std::chrono::seconds(90));
    std::ifstream in(dir / "run.json");
    const auto report = nlohmann::json::parse(in, nullptr, false);
    std::map<std::string, std::string> out;
    if (!report.is_object()) return out;
    for (const auto& r : report["runs"]) {
        for (const auto& c : r["checks"]) out[c["name"].get<std::string>()] = c["status"].get<std::string>();
    }
    return out;
}

struct ShapeCase {
    const char* shape;
    const char* fault;
    const char* check;
};

class ExploreShapes : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ExploreShapes, CatchItsFaultAndTheCorrectServerPasses) {
    const auto all = shapes();
    const auto& param = GetParam();
    std::size_t index = 0;
    while (index < all.size() && all[index].name != param.shape) ++index;
    ASSERT_LT(index, all.size()) << param.shape;
    const auto trial = plain_trial(all, index);
    const auto dir = fresh_test_dir();
    for (const bool faulty : {true, false}) {
        const auto run_dir = dir / (faulty ? "faulty" : "correct");
        fs::create_directories(run_dir);
        std::vector<std::string> args;
        if (faulty) args = {"--fault", param.fault};
        const auto file = run_dir / "trial.yaml";
        std::ofstream(file) << trial_scenario_yaml(all[index].text, all[index].scenario, trial,
                                                   TrialFile{std::string("explore-shape-") + param.shape, describe(trial), {}, args});
        const auto checks = run_checks(file, run_dir);
        ASSERT_FALSE(checks.empty()) << "no report: " << run_dir;
        if (faulty) {
            EXPECT_EQ(checks.at(param.check), "fail") << param.fault << " in " << run_dir;
        } else {
            for (const auto& [name, status] : checks) EXPECT_NE(status, "fail") << name << " in " << run_dir;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Generic, ExploreShapes,
                         ::testing::Values(ShapeCase{"durable", "skip-checkpoint", "acked_writes_durable"},
                                           ShapeCase{"resume", "forget-stream-positions", "streams_resumed"},
                                           ShapeCase{"prefork", "master-no-forward", "workers_drained"},
                                           ShapeCase{"prefork-short-grace", "no-kill-escalation", "shutdown_time"}),
                         [](const auto& shape_case) {
                             std::string name = shape_case.param.shape;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

} // namespace
} // namespace lastcall::testing
