// `lastcall check -- COMMAND`, the one-liner without YAML, run as a user runs it (the CLI, real
// targets on 127.0.0.1). It must catch what check-graceful-shutdown catches - a server that dies
// on SIGTERM mid-request, one that ignores SIGTERM, one that keeps the port, readiness that never
// flips - each with the right check, and more (announced closes, orphans, leaked descriptors);
// a correct server passes; and the scenario --print-scenario writes runs the same test.
#include "child_process.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

namespace lastcall::testing {
namespace {

namespace fs = std::filesystem;
using Failed = std::set<std::string>;

struct CliResult {
    ExitStatus status;
    std::string out;
    std::string err;
    Failed failed;          // the checks that failed, from --json
    std::size_t checks = 0;  // how many were judged
};

std::string read_file(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), {}};
}

CliResult run_cli(std::vector<std::string> args, const fs::path& dir) {
    std::vector<std::string> argv{LASTCALL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto ran = run_to_end(argv, dir / "cli.stderr", std::chrono::seconds(40));
    CliResult result;
    result.status = ran.status;
    result.out = ran.out;
    result.err = ran.err;
    if (fs::exists(dir / "suite.json")) {
        const auto suite = nlohmann::json::parse(read_file(dir / "suite.json"), nullptr, false);
        if (!suite.is_discarded()) {
            for (const auto& run : suite["runs"]) {
                for (const auto& check : run["checks"]) {
                    ++result.checks;
                    if (check["status"] == "fail") result.failed.insert(check["name"].get<std::string>());
                }
            }
        }
    }
    return result;
}

// `lastcall check OPTIONS -- COMMAND`, its run directory and JSON inside `dir`.
CliResult check(const fs::path& dir, std::vector<std::string> options, const std::vector<std::string>& command) {
    std::vector<std::string> args{"check", "--run-dir", (dir / "runs").string(), "--json", (dir / "suite.json").string()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return run_cli(args, dir);
}

std::string failed_text(const Failed& failed) {
    std::string out;
    for (const auto& name : failed) out += (out.empty() ? "" : ",") + name;
    return out.empty() ? "-" : out;
}

std::vector<std::string> reference_server(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> command{server_binary(), "--port", "{port}", "--state-dir", "{workdir}/state", "--global-budget", "3s"};
    command.insert(command.end(), extra.begin(), extra.end());
    return command;
}

const std::vector<std::string> quick_load{"--path", "/fast", "--ready", "/ready", "--slow", "/slow?ms=800", "--warmup", "700ms", "--grace", "3s",
                                          "--shutdown-report", "{workdir}/state/shutdown-report.json"};

TEST(QuickCheck, CorrectReferenceServerPasses) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, quick_load, reference_server());
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_EQ(r.failed, Failed{}) << r.out;
    EXPECT_GE(r.checks, 10u);
    EXPECT_NE(r.out.find("readiness_flip"), std::string::npos) << "--ready turns readiness_flip on";
}

// A new user's first check named a path the server does not have: every request got a 404, and
// the check said "58844 requests were error". An error is an answer: said so.
TEST(QuickCheck, EveryRequestAnswered404IsSaidInWords) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {"--path", "/no-such-path", "--warmup", "300ms", "--grace", "3s"}, reference_server());
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    ASSERT_TRUE(r.failed.contains("errors")) << r.out;
    const auto suite = nlohmann::json::parse(read_file(dir / "suite.json"));
    int found = 0;
    for (const auto& c : suite["runs"][0]["checks"]) {
        if (c["name"] != "errors") continue;
        ++found;
        const auto message = c["message"].get<std::string>();
        EXPECT_NE(message.find(" requests were answered with an error status or a broken response"), std::string::npos) << message;
        EXPECT_EQ(message.find("were error"), std::string::npos) << message;
    }
    EXPECT_EQ(found, 1) << r.out;
}

struct FaultCase {
    std::string fault;
    std::string catches;
    std::vector<std::string> server_args;  // what the fault needs to show
    std::vector<std::string> load_args;    // added to quick_load
};
void PrintTo(const FaultCase& c, std::ostream* out) { *out << c.fault; }

class QuickCheckFault : public ::testing::TestWithParam<FaultCase> {};

// What check-graceful-shutdown catches (the first three and readiness), and what it cannot see.
TEST_P(QuickCheckFault, CaughtByTheRightCheck) {
    const auto& c = GetParam();
    const auto dir = fresh_test_dir();
    auto server_args = c.server_args;
    server_args.insert(server_args.begin(), {"--fault", c.fault});
    auto load = quick_load;
    load.insert(load.end(), c.load_args.begin(), c.load_args.end());
    const auto r = check(dir, load, reference_server(server_args));
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    EXPECT_TRUE(r.failed.contains(c.catches)) << "--fault " << c.fault << " not caught by " << c.catches << "; failed: " << failed_text(r.failed)
                                              << "\n" << r.out;
}

INSTANTIATE_TEST_SUITE_P(Faults, QuickCheckFault,
                         ::testing::Values(FaultCase{"no-drain", "dropped"},              // dies on SIGTERM mid-request
                                           FaultCase{"ignore-sigterm", "exit"},           // SIGKILLed when the grace is over
                                           // Still "ready" while stopping: visible while a drain delay keeps the listener open.
                                           FaultCase{"no-ready-flip", "readiness_flip", {"--drain-delay", "1s"}},
                                           // Answers while draining promise keep-alive, then the close: the
                                           // shutdown report says when draining began. Only requests sent after
                                           // that are judged: six connections, so that one is idle then even
                                           // on a busy machine (with two, both had a request in flight in CI).
                                           FaultCase{"no-close-header", "close_announced", {}, {"--connections", "6", "--think", "20ms"}},
                                           FaultCase{"orphan-child", "orphans"},
                                           FaultCase{"leak-fd", "fd_leak"}),
                         [](const auto& info) {
                             auto name = info.param.fault;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

// A Python server of the tests' own that takes the port from $PORT (no {port} in the command).
TEST(QuickCheck, PortFromTheEnvironmentAndAGracefulPythonServerPasses) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {"--slow", "/slow?ms=600", "--warmup", "600ms", "--grace", "3s"}, {"python3", HTTP_TARGET, "env", "graceful"});
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_EQ(r.failed, Failed{}) << r.out;
    EXPECT_NE(r.err.find("the command has no {port}"), std::string::npos) << "the hint about $PORT: " << r.err;
}

// The target hands its listener to a process that is not its own (as a supervisor or a new
// generation that inherits it and never lets go): the port stays bound after the target exited.
TEST(QuickCheck, PortKeptByAnotherProcessFailsPortReleased) {
    const auto dir = fresh_test_dir();
    const auto socket_path = (dir / "keeper.sock").string();
    ChildProcess keeper({"/usr/bin/python3", HTTP_TARGET, "keeper", socket_path, "30"}, dir / "keeper.stderr");
    ASSERT_EQ(keeper.read_line(std::chrono::seconds(10)), "keeping");
    const auto r = check(dir, {"--warmup", "600ms", "--grace", "3s"}, {"python3", HTTP_TARGET, "{port}", "keep-port", socket_path});
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    EXPECT_TRUE(r.failed.contains("port_released")) << failed_text(r.failed) << "\n" << r.out;
    EXPECT_FALSE(r.failed.contains("orphans")) << "the keeper is not the target's";
}

// --print-scenario: the YAML a user saves; `lastcall run` on it gives the same verdict as the check.
// A server that ignores SIGTERM: the verdict (exit: SIGKILLed when the grace is over) is not chance.
TEST(QuickCheck, PrintedScenarioRunsTheSame) {
    const auto dir = fresh_test_dir();
    const std::vector<std::string> options{"--path", "/fast", "--slow", "/slow?ms=500", "--warmup", "500ms", "--grace", "1500ms", "--name", "graduate"};
    std::vector<std::string> print_args{"check"};
    print_args.insert(print_args.end(), options.begin(), options.end());
    print_args.insert(print_args.end(), {"--print-scenario", "--"});
    const auto command = reference_server({"--fault", "ignore-sigterm"});
    print_args.insert(print_args.end(), command.begin(), command.end());
    const auto printed = run_cli(print_args, dir);
    ASSERT_EQ(printed.status.code, 0) << printed.err;
    std::ofstream(dir / "graduate.yaml") << printed.out;

    const auto checked = check(dir, options, command);
    EXPECT_EQ(read_file(dir / "runs" / "graduate.yaml"), printed.out) << "the check ran what --print-scenario prints";
    fs::remove(dir / "suite.json");
    const auto ran = run_cli({"run", (dir / "graduate.yaml").string(), "--run-dir", (dir / "runs-file").string(), "--json", (dir / "suite.json").string()}, dir);
    EXPECT_EQ(checked.status.code, 1) << checked.out;
    EXPECT_EQ(ran.status.code, 1) << ran.out << ran.err;
    EXPECT_EQ(checked.failed, Failed{"exit"}) << checked.out;
    EXPECT_EQ(ran.failed, checked.failed) << "check: " << failed_text(checked.failed) << "; run: " << failed_text(ran.failed);
    EXPECT_EQ(ran.checks, checked.checks);
}

TEST(QuickCheck, TargetThatNeverListensIsExit3) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {"--ready-timeout", "500ms"}, {"sleep", "5"});
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("the command has no {port}"), std::string::npos) << r.err;
}

// A command that fails at once (a wrong config): exit 3, how it ended and its stderr, not a wait.
TEST(QuickCheck, TargetThatExitsAtOnceIsExit3WithItsStatusAndStderr) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {}, {"sh", "-c", "echo boom >&2; exit 3"});
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("the target exited with status 3 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" s after it was started, before it was ready; its last stderr lines:\n  | boom\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.checks, 0u) << "nothing to judge: " << r.out;
}

// A command that exits without a word: the message says its stderr is empty instead of ending on
// an introduction with nothing after it (a new user read that as cut off).
TEST(QuickCheck, TargetThatExitsSilentlySaysItsStderrIsEmpty) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {}, {"sh", "-c", "exit 3"});
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find(" s after it was started, before it was ready; its stderr is empty"), std::string::npos) << r.out;
}

// The README's gunicorn example without an app module: the master listens (ready), its worker
// cannot import the app, and the master exits 3 before the signal. Here a Python process that
// listens on the port, says why on stderr and exits 3 a moment later. Its shutdown was never
// tried: one failed check says how it died, not a row of failed checks that read as a bad shutdown.
TEST(QuickCheck, TargetThatDiesBeforeTheSignalFailsAliveUntilSignalSayingSo) {
    const auto dir = fresh_test_dir();
    const std::string listen_then_die = "import socket, sys, time\n"
                                        "s = socket.socket()\n"
                                        "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
                                        "s.listen()\n"
                                        "print('Worker failed to boot.', file=sys.stderr, flush=True)\n"
                                        "time.sleep(0.3)\n"
                                        "sys.exit(3)\n";
    // The signal 30 s after ready: the target dies long before it, however busy the machine.
    const auto r = check(dir, {"--warmup", "30s"}, {"python3", "-c", listen_then_die, "{port}"});
    // It started and failed: a check fails (exit 1), not "could not be started" (exit 3, which a CI
    // gate may retry as the machine's fault), and no shutdown check is judged: none was tried.
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    const std::regex said(R"(FAIL +alive_until_signal +alive until the first signal +exited with status 3 at \d+\.\d\d s\n)"
                          R"( +the target exited with status 3 at \d+\.\d\d s, before the first signal; its last stderr lines:\n  \| Worker failed to boot\.\n)");
    EXPECT_TRUE(std::regex_search(r.out, said)) << r.out;
    EXPECT_NE(r.err.find("before the first signal"), std::string::npos) << r.err;
    EXPECT_EQ(r.checks, 1u) << "alive_until_signal alone: " << r.out;
}

TEST(QuickCheck, BadCommandLinesAreExit2WithTheReason) {
    const auto dir = fresh_test_dir();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"check", "python3"}, "lastcall check: 'python3' before --: the target's command goes after --"},
        {{"check", "--"}, "check needs the target's command after --"},
        {{"check", "--signal", "NOPE", "--", "x"}, "--signal: unknown signal 'NOPE'"},
        {{"check", "--path", "no-slash", "--", "x"}, "--path needs a path"},
        {{"check", "--connections", "0", "--", "x"}, "--connections needs a whole number from 1 to 1000, not '0'"},
        {{"check", "--warmup", "soon", "--", "x"}, "--warmup needs a duration"},
        {{"check", "--exit", "300", "--", "x"}, "--exit needs a whole number from 0 to 255"},
        {{"check", "--exit", "0,NOPE", "--", "x"}, "--exit needs exit codes (0-255) or signals"},
        {{"check", "--name", "../up", "--", "x"}, "--name: '../up' is not a name"},
        {{"check", "--frobnicate", "--", "x"}, "lastcall check: unknown option --frobnicate"},
    };
    for (const auto& [args, message] : cases) {
        const auto r = run_cli(args, dir);
        EXPECT_EQ(r.status.code, 2) << args[1];
        EXPECT_NE(r.err.find(message), std::string::npos) << "expected '" << message << "' in: " << r.err;
    }
}

} // namespace
} // namespace lastcall::testing
