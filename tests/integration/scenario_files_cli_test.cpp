// `lastcall validate` and `lastcall run` over directories holding hostile scenario files (issue 7,
// item 13: one file with a list as a key aborted lastcall with exit 134, and the whole suite with it).
// Each bad file is reported on its own line with file:line:column; the exit code is 2, never a crash.
#include "child_process.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;

CommandResult run_cli(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{LASTCALL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_to_end(argv, dir / "stderr", std::chrono::seconds(10));
}

// good.yaml, and three files that used to abort or slip through.
fs::path suite_with_bad_files() {
    const auto dir = fresh_test_dir();
    fs::create_directories(dir / "suite");
    std::ofstream(dir / "suite" / "a-list-key.yaml") << "name: x\ntarget: {command: [srv]}\n? [a, b]\n: 1\n";
    std::ofstream(dir / "suite" / "b-escape.yaml") << "name: ../outside\ntarget: {command: [srv]}\n";
    std::ofstream(dir / "suite" / "c-nan.yaml") << "name: x\ntarget: {command: [srv]}\nworkloads:\n  - {name: a, mode: open, rate: nan/s}\n";
    std::ofstream(dir / "suite" / "good.yaml") << "name: good\ntarget: {command: [srv]}\n";
    return dir;
}

std::string expected_errors(const fs::path& suite) {
    return (suite / "a-list-key.yaml").string() + ":3:3: a key must be a name, not a list\n" +
           (suite / "b-escape.yaml").string() + ":1:7: name '../outside' must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'\n" +
           (suite / "c-nan.yaml").string() + ":4:33: rate must look like 200/s, 30/m or 1/h, from 1/h to 1000000/s\n";
}

TEST(ScenarioFilesCli, ValidateReportsEveryBadFileAndGoesOn) {
    const auto dir = suite_with_bad_files();
    const auto result = run_cli({"validate", (dir / "suite").string()}, dir);
    EXPECT_TRUE(result.status.exited) << describe(result.status);
    EXPECT_EQ(result.status.code, 2);
    EXPECT_EQ(result.err, expected_errors(dir / "suite"));
    EXPECT_EQ(result.out, "ok  " + (dir / "suite" / "good.yaml").string() + " (good)\n");
}

TEST(ScenarioFilesCli, RunReportsEveryBadFileAndExits2WithoutCrashing) {
    const auto dir = suite_with_bad_files();
    // Only bad files: whether lastcall runs the good ones of a suite with bad ones is cli/run_command.cpp's call.
    fs::remove(dir / "suite" / "good.yaml");
    const auto result = run_cli({"run", (dir / "suite").string(), "--run-dir", (dir / "runs").string()}, dir);
    EXPECT_TRUE(result.status.exited) << describe(result.status);
    EXPECT_EQ(result.status.code, 2);
    EXPECT_EQ(result.err, expected_errors(dir / "suite"));
    EXPECT_FALSE(fs::exists(dir / "outside"));
}

TEST(ScenarioFilesCli, FilesAndDirectoriesThatHoldNoScenarioSayWhy) {
    const auto dir = fresh_test_dir();
    fs::create_directories(dir / "empty");
    const auto result = run_cli({"validate", (dir / "nosuch.yaml").string(), (dir / "empty").string()}, dir);
    EXPECT_EQ(result.status.code, 2);
    EXPECT_EQ(result.err, (dir / "nosuch.yaml").string() + ": cannot read the file: No such file or directory\n" +
                              (dir / "empty").string() + ": no scenario files (*.yaml, *.yml) in this directory\n");
}

} // namespace
} // namespace lastcall::testing
