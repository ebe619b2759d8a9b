// `lastcall validate` and `lastcall run` over directories holding hostile scenario files (issue 7,
// item 13: one file with a list as a key aborted lastcall with exit 134, and the whole suite with it).
// Each bad file is reported on its own line with file:line:column; the exit code is 2, never a crash.
#include "child_process.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;

CommandResult run_cli(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{LASTCALL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_to_end(argv, dir / "stderr", std::chrono::seconds(10));
}

const std::string a_signal = "timeline: [{at: 1s, signal: TERM}]\n";

// good.yaml, and three files that used to abort or slip through.
fs::path suite_with_bad_files() {
    const auto dir = fresh_test_dir();
    fs::create_directories(dir / "suite");
    std::ofstream(dir / "suite" / "a-list-key.yaml") << "name: x\ntarget: {command: [srv]}\n? [a, b]\n: 1\n";
    std::ofstream(dir / "suite" / "b-escape.yaml") << "name: ../outside\ntarget: {command: [srv]}\n" << a_signal;
    std::ofstream(dir / "suite" / "c-nan.yaml") << "name: x\ntarget: {command: [srv]}\nworkloads:\n  - {name: a, mode: open, rate: nan/s}\n" << a_signal;
    std::ofstream(dir / "suite" / "good.yaml") << "name: good\ntarget: {command: [srv]}\n" << a_signal;
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

// `lastcall validate` says every error of a file, each on its line with file:line:column, in file
// order (a new user fixed one error per run), and exits 2.
TEST(ScenarioFilesCli, ValidateSaysEveryErrorOfAFile) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "s.yaml") << "name: x\ntarget: {command: [srv], port: 0}\nworkloads:\n  - {name: a, connections: 0}\n"
                                     "  - {name: b, think: soon}\ntimeline: [{at: 1s, signal: TERMX}]\nthreads: 99\n";
    const auto result = run_cli({"validate", (dir / "s.yaml").string()}, dir);
    EXPECT_EQ(result.status.code, 2);
    const auto file = (dir / "s.yaml").string();
    EXPECT_EQ(result.err, file + ":2:32: target.port must be a whole number from 1 to 65535\n" +
                              file + ":4:28: connections must be a whole number from 1 to 100000\n" +
                              file + ":5:22: think must be a duration from 0s to 1h, like 250ms, 3s or 1m\n" +
                              file + ":6:29: unknown signal 'TERMX' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)\n" +
                              file + ":7:10: threads must be a whole number from 1 to 64\n");
}

// A new user's scenario with no timeline validated ok; run, it went on until max_duration and
// failed `exit` (lastcall's own kill), or with `workloads: []` passed having tested nothing. A
// scenario that cannot test a shutdown is refused at load, before any target starts (`srv` does
// not exist: a run would exit 3), saying what is missing. A reload alone (what explore shrinks a
// reload's failure to), a child's signal (the target may end on its own) and a SIGKILL do test something; a file for `lastcall explore` validates,
// as explore writes its signals, but is not run as it is.
TEST(ScenarioFilesCli, AScenarioThatTestsNoShutdownIsRefusedSayingWhatIsMissing) {
    const auto dir = fresh_test_dir();
    const std::string head = "name: x\ntarget: {command: [srv]}\n";
    const std::string load = "workloads: [{name: w, request: {path: /}}]\n";
    const std::map<std::string, std::string> refused{
        {"no-timeline.yaml", head + load},
        {"no-load.yaml", head + "workloads: []\n"},
        {"restart-only.yaml", head + load + "timeline:\n  - when: exited\n    restart_target: true\n"},
        {"a-pause-only.yaml", head + load + "timeline:\n  - {at: 1s, pause: 100ms}\n"},
        {"empty-timeline.yaml", head + load + "timeline: []\n"},
    };
    for (const auto& [name, text] : refused) std::ofstream(dir / name) << text;
    const auto why = "nothing would end the target before limits.max_duration (1m), where lastcall kills it, and no shutdown would be "
                     "tested; add one, like `timeline: [{at: 2s, signal: TERM}]`\n";
    const auto no_timeline = ":1:1: the scenario has no timeline: " + std::string(why);
    const auto no_signal = ":5:3: the timeline sends the target no signal (but STOP/CONT), no kill_if_alive and no reload: " + std::string(why);
    // No STOP/CONT step: no "(but STOP/CONT)".
    const auto plain = "the timeline sends the target no signal, no kill_if_alive and no reload: " + std::string(why);
    const auto empty = ":4:11: " + plain;
    const std::string expected = (dir / "a-pause-only.yaml").string() + no_signal + (dir / "empty-timeline.yaml").string() + empty +
                                 (dir / "no-load.yaml").string() + no_timeline +
                                 (dir / "no-timeline.yaml").string() + no_timeline + (dir / "restart-only.yaml").string() + ":5:3: " + plain;
    for (const auto& command : {std::vector<std::string>{"validate", dir.string()}, {"run", dir.string(), "--run-dir", (dir / "runs").string()}}) {
        const auto result = run_cli(command, dir);
        EXPECT_EQ(result.status.code, 2) << command[0] << ": " << result.out << result.err;
        EXPECT_EQ(result.err, expected) << command[0];
    }
    EXPECT_FALSE(fs::exists(dir / "runs")) << "nothing was run";

    const auto accepted = dir / "accepted";
    fs::create_directories(accepted);
    std::ofstream(accepted / "kill.yaml") << head << load << "timeline: [{at: 1s, kill_if_alive: true}]\n";
    std::ofstream(accepted / "reload.yaml") << head << load << "timeline: [{at: 1s, reload: true}]\n";
    std::ofstream(accepted / "to-the-group.yaml") << head << load << "timeline: [{at: 1s, signal: INT, to: group}]\n";
    std::ofstream(accepted / "to-a-child.yaml") << head << load << "timeline: [{at: 1s, signal: KILL, to: child 1}]\n";
    const auto ok = run_cli({"validate", accepted.string()}, dir);
    EXPECT_EQ(ok.status.code, 0) << ok.err;

    const auto for_explore = dir / "explore.yaml";
    std::ofstream(for_explore) << head << load << "explore:\n  shapes:\n    - {name: two, args: [--workers, '2']}\n";
    const auto validated = run_cli({"validate", for_explore.string()}, dir);
    EXPECT_EQ(validated.status.code, 0) << validated.err;
    const auto run = run_cli({"run", for_explore.string(), "--run-dir", (dir / "runs").string()}, dir);
    EXPECT_EQ(run.status.code, 2) << run.out << run.err;
    EXPECT_EQ(run.err, for_explore.string() + ":1:1: the scenario has no timeline: " + std::string(why).substr(0, std::string(why).size() - 1) +
                           " (a scenario for lastcall explore, which writes the signals itself: lastcall explore FILE)\n");
}

} // namespace
} // namespace lastcall::testing
