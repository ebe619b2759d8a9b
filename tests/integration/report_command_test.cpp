// `lastcall report RUN_DIR` on a real run directory: lastcall-server with the no-drain fault under
// scenarios/slow-requests.yaml (a failing run: failed checks with their moments, a SIGTERM, an
// exit), its report.json and report.html deleted and re-rendered from what the directory holds,
// equal to what the run wrote; and directories that are not run directories, or hold a corrupt
// file, refused with the file named (exit 2).
#include "child_process.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), {}};
}

CommandResult lastcall(std::vector<std::string> args, const fs::path& dir) {
    args.insert(args.begin(), LASTCALL_BINARY);
    return run_to_end(args, dir / "stderr", 60s);
}

// One failing run shared by the tests of one process (a run takes seconds), made by the first test
// that needs it, in that test's own directory: ctest runs each test in a process of its own, two at
// a time, and a shared directory was removed under the other test's run.
struct SharedRun {
    fs::path root, run_dir;
    std::string failure;  // why it could not be made
};
const SharedRun& failing_run() {
    static const SharedRun run = [] {
        SharedRun r;
        r.root = lastcall::testing::fresh_test_dir("-shared-run");
        const auto made = lastcall({"run", std::string(LASTCALL_SCENARIOS_DIR) + "/slow-requests.yaml", "--run-dir", (r.root / "runs").string(), "-q",
                                    "--target-arg", "--fault", "--target-arg", "no-drain"},
                                   r.root);
        if (!(made.status.exited && made.status.code == 1)) r.failure = describe(made.status) + ": " + made.out + made.err;
        for (const auto& entry : fs::directory_iterator(r.root / "runs")) r.run_dir = entry.path();
        return r;
    }();
    return run;
}

class ReportCommand : public ::testing::Test {
protected:
    void SetUp() override {
        const auto& run = failing_run();
        ASSERT_TRUE(run.failure.empty()) << run.failure;
        ASSERT_FALSE(run.run_dir.empty());
        root_ = run.root;
    }
    // A copy of the run directory to damage.
    fs::path copy_of_run(const std::string& name) const {
        const auto copy = root_ / name;
        fs::remove_all(copy);
        fs::copy(failing_run().run_dir, copy, fs::copy_options::recursive);
        return copy;
    }
    fs::path root_;
};

TEST_F(ReportCommand, ReRendersARealRunsReportsAsTheRunWroteThem) {
    const auto dir = copy_of_run("round-trip");
    const auto original_json = read_file(dir / "report.json"), original_html = read_file(dir / "report.html");
    ASSERT_NE(original_json.find("\"status\": \"fail\""), std::string::npos) << "the run failed a check: " << original_json;
    fs::remove(dir / "report.json");
    fs::remove(dir / "report.html");
    const auto r = lastcall({"report", dir.string()}, root_);
    ASSERT_TRUE(r.status.clean()) << r.err;
    EXPECT_EQ(read_file(dir / "report.json"), original_json) << "re-rendered report.json equals the run's own, byte for byte";
    EXPECT_EQ(read_file(dir / "report.html"), original_html);
    // history.jsonl was streamed into an unlinked sorted file there, as the run's own history was:
    // nothing of it is left behind.
    for (const auto& entry : fs::directory_iterator(dir)) {
        EXPECT_EQ(entry.path().filename().string().find("lastcall-history-"), std::string::npos) << entry.path();
    }

    // --junit: the run's testsuite, with its failed exit check; --json - on stdout alone.
    const auto junit = lastcall({"report", dir.string(), "--junit", (root_ / "junit.xml").string()}, root_);
    ASSERT_TRUE(junit.status.clean()) << junit.err;
    EXPECT_NE(read_file(root_ / "junit.xml").find("<failure message=\"expected exit 0, saw killed by SIGTERM\" type=\"exit\">"), std::string::npos);
    const auto to_stdout = lastcall({"report", dir.string(), "--json", "-"}, root_);
    ASSERT_TRUE(to_stdout.status.clean()) << to_stdout.err;
    EXPECT_EQ(to_stdout.out, original_json);
}

TEST_F(ReportCommand, RefusesWhatIsNotARunDirectoryNamingTheFile) {
    const auto refused = [&](const fs::path& dir, const std::string& says) {
        const auto r = lastcall({"report", dir.string()}, root_);
        EXPECT_TRUE(r.status.exited && r.status.code == 2) << describe(r.status);
        EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    };
    refused(root_ / "nosuch", (root_ / "nosuch").string() + ": ");
    fs::create_directories(root_ / "empty");
    refused(root_ / "empty", "empty: not a run directory (no run.json)");

    auto dir = copy_of_run("cut-run-json");
    const auto run_json = read_file(dir / "run.json");
    std::ofstream(dir / "run.json", std::ios::trunc) << run_json.substr(0, run_json.size() / 2);
    refused(dir, (dir / "run.json").string() + ": not JSON (corrupt or cut short)");

    dir = copy_of_run("wrong-type");
    auto j = nlohmann::json::parse(run_json);
    j["duration_us"] = "soon";
    std::ofstream(dir / "run.json", std::ios::trunc) << j.dump();
    refused(dir, (dir / "run.json").string() + ": 'duration_us' is not a number");

    dir = copy_of_run("other-version");
    j = nlohmann::json::parse(run_json);
    j["version"] = 3;
    std::ofstream(dir / "run.json", std::ios::trunc) << j.dump();
    refused(dir, (dir / "run.json").string() + ": version 3 (this lastcall reads 2)");

    dir = copy_of_run("bad-history");
    std::ofstream(dir / "history.jsonl", std::ios::app) << "{\"id\": 1, \"workload\": \"nosuch\"}\n";
    refused(dir, "history.jsonl:");
    refused(dir, "workload 'nosuch' is not one of the run's");

    dir = copy_of_run("no-verdict");
    fs::remove(dir / "verdict.json");
    refused(dir, (dir / "verdict.json").string() + ": missing");
    EXPECT_TRUE(fs::exists(dir / "report.json")) << "a refused directory is left as it was";
}

// history.jsonl past its budget holds part of the ok requests: the re-rendered report.json shows
// the run's own latency (verdict.json keeps its histogram), not figures recomputed from the part.
TEST(ReportCommandShortenedHistory, KeepsTheRunsOwnLatencyFigures) {
    const auto root = lastcall::testing::fresh_test_dir("-shortened");
    const auto scenario = root / "jsonl-budget.yaml";
    std::ofstream(scenario) << R"(name: jsonl-budget
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: fast
    request: {path: "/fast"}
    connections: 2
    max_requests: 3000
timeline:
  - {at: 1500ms, signal: TERM}
limits: {max_duration: 15s, history_bytes: 200000}
)";
    const auto made = lastcall({"run", scenario.string(), "--run-dir", (root / "runs").string(), "-q"}, root);
    ASSERT_TRUE(made.status.exited && made.status.code == 0) << describe(made.status) << made.out << made.err;
    fs::path dir;
    for (const auto& entry : fs::directory_iterator(root / "runs")) dir = entry.path();
    const auto run_json = nlohmann::json::parse(read_file(dir / "run.json"));
    ASSERT_GT(run_json["history"]["jsonl"]["ok_left_out"].get<std::uint64_t>(), 0u) << "history.jsonl holds part of the ok requests";
    const auto original = read_file(dir / "report.json");
    EXPECT_EQ(nlohmann::json::parse(original)["latency_ms"]["count"], 3000) << "every ok request, as the run measured them";
    fs::remove(dir / "report.json");
    const auto r = lastcall({"report", dir.string()}, root);
    ASSERT_TRUE(r.status.clean()) << r.err;
    EXPECT_EQ(read_file(dir / "report.json"), original) << "latency_ms as the run wrote it";
    EXPECT_EQ(r.err.find("latency_ms (recomputed"), std::string::npos) << r.err;
}

} // namespace
} // namespace lastcall::testing
