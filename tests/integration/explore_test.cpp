// `lastcall explore` end to end, on real processes: from the generic scenario (no timing hints) it
// finds what a faulty lastcall-server does wrong, shrinks it to a scenario file that `lastcall run`
// reproduces; against the correct server it finds nothing and keeps nothing; Ctrl+C reports what
// it has.
#include "child_process.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const std::string generic = std::string(LASTCALL_SCENARIOS_DIR) + "/explore/generic.yaml";

struct CliRun {
    ExitStatus status;
    std::string out;
};

// Runs lastcall; `on_line` may act on each stdout line (and return false to stop reading early).
CliRun run_lastcall(std::vector<std::string> args, const fs::path& dir, seconds limit,
                    const std::function<void(ChildProcess&, const std::string&)>& on_line = {}) {
    args.insert(args.begin(), LASTCALL_BINARY);
    ChildProcess cli(args, dir / "lastcall.stderr");
    CliRun run;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        const auto line = cli.read_line(seconds(5));
        if (!line) {
            if (cli.wait(std::chrono::milliseconds(1))) break;
            continue;
        }
        run.out += *line + "\n";
        if (on_line) on_line(cli, *line);
    }
    run.status = cli.wait(seconds(10)).value_or(ExitStatus{false, 0, SIGKILL});
    return run;
}

nlohmann::json read_json(const fs::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in, nullptr, false);
}

std::vector<std::string> explore_args(const fs::path& out, const std::string& budget, std::vector<std::string> target_args) {
    std::vector<std::string> args{"explore", generic, "--budget", budget, "--seed", "7", "--out", out.string(), "--reruns", "2",
                                  "--shrink-runs", "6", "--server", server_binary()};
    for (const auto& a : target_args) args.insert(args.end(), {"--target-arg", a});
    return args;
}

TEST(Explore, FindsTheFaultAndTheShrunkScenarioReproducesIt) {
    const auto dir = fresh_test_dir();
    const auto out = dir / "out";
    // no-drain: SIGTERM kills the server mid-request, whatever the moment or the mix.
    const auto run = run_lastcall(explore_args(out, "15s", {"--fault", "no-drain"}), dir, seconds(150));
    ASSERT_TRUE(run.status.exited) << describe(run.status) << run.out;
    EXPECT_EQ(run.status.code, 1) << run.out;
    const auto report = read_json(out / "explore.json");
    ASSERT_TRUE(report.is_object()) << run.out;
    EXPECT_GE(report["failures"].get<int>(), 1);
    ASSERT_GE(report["findings"].size(), 1u) << run.out;
    const auto& finding = report["findings"][0];
    const auto checks = finding["failing_checks"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(checks.begin(), checks.end(), "exit"), checks.end()) << run.out;
    EXPECT_EQ(finding["reruns"], 2);
    EXPECT_EQ(finding["reproduced"], 2) << "no-drain fails every time";
    EXPECT_LE(finding["minimal"]["size"].get<int>(), finding["original"]["size"].get<int>());

    // The minimal scenario stands alone: `lastcall run` reproduces the failure (the fault is in its command).
    const fs::path file = finding["file"].get<std::string>();
    std::ifstream in(file);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NE(text.find("no-drain"), std::string::npos) << text;
    const auto rerun = run_lastcall({"run", file.string(), "--server", server_binary(), "--run-dir", (dir / "rerun").string(), "--json",
                                     (dir / "rerun.json").string()},
                                    dir, seconds(60));
    EXPECT_EQ(rerun.status.code, 1) << rerun.out;
    const auto rerun_report = read_json(dir / "rerun.json");
    bool same_check_failed = false;
    for (const auto& r : rerun_report["runs"]) {
        for (const auto& c : r["checks"]) same_check_failed |= c["name"] == "exit" && c["status"] == "fail";
    }
    EXPECT_TRUE(same_check_failed) << rerun_report.dump(2);
}

TEST(Explore, FindsNothingAgainstTheCorrectServerAndKeepsNothing) {
    const auto dir = fresh_test_dir();
    const auto out = dir / "out";
    const auto run = run_lastcall(explore_args(out, "12s", {}), dir, seconds(90));
    ASSERT_TRUE(run.status.exited) << describe(run.status) << run.out;
    EXPECT_EQ(run.status.code, 0) << run.out;
    const auto report = read_json(out / "explore.json");
    EXPECT_GE(report["trials"].get<int>(), 2) << run.out;
    EXPECT_EQ(report["failures"], 0) << run.out;
    EXPECT_EQ(report["not_run"], 0) << run.out;
    EXPECT_TRUE(report["findings"].empty());
    std::error_code ec;
    EXPECT_TRUE(!fs::exists(out / "runs", ec) || fs::is_empty(out / "runs", ec)) << "passing trials' run directories are pruned";
    EXPECT_TRUE(!fs::exists(out / "trials", ec) || fs::is_empty(out / "trials", ec));
}

TEST(Explore, CtrlCStopsAndReportsWhatItHas) {
    const auto dir = fresh_test_dir();
    const auto out = dir / "out";
    bool sent = false;
    const auto run = run_lastcall(explore_args(out, "5m", {}), dir, seconds(60), [&](ChildProcess& cli, const std::string& line) {
        if (!sent && line.starts_with("trial 1 ")) {
            cli.signal(SIGINT);
            sent = true;
        }
    });
    ASSERT_TRUE(sent) << run.out;
    ASSERT_TRUE(run.status.exited) << describe(run.status) << run.out;
    EXPECT_EQ(run.status.code, 130) << run.out;
    const auto report = read_json(out / "explore.json");
    EXPECT_EQ(report["interrupted"], true) << run.out;
    EXPECT_GE(report["trials"].get<int>(), 1);
    EXPECT_NE(run.out.find("interrupted"), std::string::npos) << run.out;
}

} // namespace
} // namespace lastcall::testing
