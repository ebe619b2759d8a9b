// Both command lines as a user meets them (issue 12): the real `lastcall` and `lastcall-server`
// binaries. Help per subcommand on stdout with exit 0; a bare `lastcall` is usage on stderr, exit
// 2; numbers that are not numbers name the option and the word; --opt=value; `--json -` puts the
// JSON alone on stdout (a failing server's verdict included) and the console report on stderr; the
// server reads LASTCALL_SERVER_<FLAG> when the flag is not given, names the variable when its value
// is bad, and refuses the old LASTCALL_<FLAG> names instead of ignoring them.
#include "child_process.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <initializer_list>
#include <fstream>
#include <iterator>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using CliResult = CommandResult;

CliResult run_binary(const std::vector<std::string>& argv, const fs::path& dir) { return run_to_end(argv, dir / "stderr", 40s); }

CliResult lastcall(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{LASTCALL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_binary(argv, dir);
}

// Sets environment variables for one test (lastcall-server inherits them) and removes them after.
class Environment {
public:
    Environment(std::initializer_list<std::pair<std::string, std::string>> variables) : variables_(variables) {
        for (const auto& [name, value] : variables_) ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~Environment() {
        for (const auto& [name, value] : variables_) ::unsetenv(name.c_str());
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

private:
    std::vector<std::pair<std::string, std::string>> variables_;
};

TEST(CommandLine, EverySubcommandHasItsHelpOnStdout) {
    const auto dir = fresh_test_dir();
    const std::vector<std::pair<std::string, std::string>> cases{
        {"run", "--seed N"}, {"validate", "--var NAME=VALUE"}, {"list", "DIR"}, {"bench", "-d,--duration D"}, {"check", "--print-scenario"}};
    // A --help after -- is the target's word, not a call for lastcall's help.
    EXPECT_EQ(lastcall({"check", "--print-scenario", "--", "srv", "--help"}, dir).out.find("Usage:"), std::string::npos);
    for (const auto& [command, option] : cases) {
        const auto r = lastcall({command, "--help"}, dir);
        EXPECT_EQ(r.status.code, 0) << command << r.err;
        EXPECT_NE(r.out.find("Usage: lastcall " + command), std::string::npos) << r.out;
        EXPECT_NE(r.out.find(option), std::string::npos) << command << ":\n" << r.out;
        EXPECT_EQ(r.err, "") << command;
    }
    const auto top = lastcall({"--help"}, dir);
    EXPECT_EQ(top.status.code, 0);
    for (const char* command : {"run", "check", "validate", "list", "bench"}) EXPECT_NE(top.out.find(command), std::string::npos) << top.out;
    EXPECT_EQ(lastcall({"help", "run"}, dir).out, lastcall({"run", "--help"}, dir).out);
}

// What a command cannot run without is in its usage line, not in brackets as if optional; check's
// target command after -- above all (a new user read `lastcall check [OPTIONS]` and gave none).
TEST(CommandLine, UsageLineSaysWhatEachCommandNeeds) {
    const auto dir = fresh_test_dir();
    const std::vector<std::pair<std::string, std::string>> cases{{"check", "Usage: lastcall check [OPTIONS] -- COMMAND ARGS...\n"},
                                                                 {"run", "Usage: lastcall run [OPTIONS] SCENARIO_OR_DIR...\n"},
                                                                 {"validate", "Usage: lastcall validate [OPTIONS] FILE_OR_DIR...\n"},
                                                                 {"bench", "Usage: lastcall bench [OPTIONS] URL\n"},
                                                                 {"explore", "Usage: lastcall explore [OPTIONS] SCENARIO\n"},
                                                                 {"diff", "Usage: lastcall diff [OPTIONS] A B\n"}};
    for (const auto& [command, usage] : cases) {
        const auto r = lastcall({command, "--help"}, dir);
        EXPECT_NE(r.out.find(usage), std::string::npos) << r.out;
    }
    const auto none = lastcall({"run"}, dir);
    EXPECT_EQ(none.status.code, 2);
    EXPECT_NE(none.err.find("run needs at least one scenario file or directory"), std::string::npos) << none.err;
}

TEST(CommandLine, BareLastcallIsUsageOnStderrExit2) {
    const auto dir = fresh_test_dir();
    const auto r = lastcall({}, dir);
    EXPECT_EQ(r.status.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("Usage: lastcall"), std::string::npos) << r.err;
    const auto unknown = lastcall({"rn", "x.yaml"}, dir);
    EXPECT_EQ(unknown.status.code, 2);
    EXPECT_NE(unknown.err.find("lastcall: unknown command 'rn'"), std::string::npos) << unknown.err;
}

TEST(CommandLine, NumbersThatAreNotNumbersNameTheOptionAndTheWord) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "good.yaml") << "name: good\ntarget: {command: [srv]}\ntimeline: [{at: 1s, signal: TERM}]\n";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"run", (dir / "good.yaml").string(), "--seed", "abc"}, "lastcall run: --seed: 'abc' is not a whole number\n"},
        {{"run", (dir / "good.yaml").string(), "--seed=12x"}, "lastcall run: --seed: '12x' is not a whole number\n"},
        {{"run", (dir / "good.yaml").string(), "--repeat", "0"}, "lastcall run: --repeat: '0' is too small (at least 1)\n"},
        {{"run", (dir / "good.yaml").string(), "--repeat", "99999999999999999999"}, "lastcall run: --repeat: '99999999999999999999' is too large (at most 10000)\n"},
        {{"run", (dir / "good.yaml").string(), "--seed"}, "lastcall run: --seed needs a value\n"},
        {{"run", (dir / "good.yaml").string(), "--frob"}, "lastcall run: unknown option --frob\n"},
        {{"bench", "http://127.0.0.1:1/", "-c", "abc"}, "lastcall bench: -c abc: not a whole number\n"},
    };
    for (const auto& [args, message] : cases) {
        const auto r = lastcall(args, dir);
        EXPECT_EQ(r.status.code, 2) << args.back();
        EXPECT_EQ(r.err, message + "Run 'lastcall " + args[0] + " --help' for its options.\n");
        EXPECT_EQ(r.out, "");
    }
}

TEST(CommandLine, OptionEqualsValueIsTheSameAsTwoWords) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "named.yaml") << "name: ${WHO}\ntarget: {command: [srv]}\ntimeline: [{at: 1s, signal: TERM}]\n";
    const auto joined = lastcall({"validate", "--var=WHO=joined", (dir / "named.yaml").string()}, dir);
    EXPECT_EQ(joined.status.code, 0) << joined.err;
    EXPECT_EQ(joined.out, "ok  " + (dir / "named.yaml").string() + " (joined)\n");
    const auto apart = lastcall({"validate", (dir / "named.yaml").string(), "--var", "WHO=apart"}, dir);
    EXPECT_EQ(apart.out, "ok  " + (dir / "named.yaml").string() + " (apart)\n");
    const auto bad = lastcall({"validate", "--var=oops", (dir / "named.yaml").string()}, dir);
    EXPECT_EQ(bad.status.code, 2);
    EXPECT_NE(bad.err.find("--var takes NAME=VALUE, not 'oops'"), std::string::npos) << bad.err;
}

TEST(CommandLine, ValidateReadsTheTargetShapesAsExploreDoes) {
    const auto dir = fresh_test_dir();
    const std::string head = "name: one\ntarget: {command: [srv]}\nworkloads: [{name: w, request: {path: /}}]\nexplore:\n  shapes:\n    - name: a\n";
    std::ofstream(dir / "good.yaml") << head << "      args: [--workers, '2']\n";
    std::ofstream(dir / "bad.yaml") << head << "      without: [v]\n";
    const auto good = lastcall({"validate", (dir / "good.yaml").string()}, dir);
    EXPECT_EQ(good.status.code, 0) << good.err;
    EXPECT_EQ(good.out, "ok  " + (dir / "good.yaml").string() + " (one, 1 target shapes for explore)\n");
    const auto bad = lastcall({"validate", (dir / "bad.yaml").string()}, dir);
    EXPECT_EQ(bad.status.code, 2);
    EXPECT_EQ(bad.err, (dir / "bad.yaml").string() + ":7:17: without: 'v' is not one of the scenario's workloads\n");
}

TEST(CommandLine, MissingScenarioFileSaysWhy) {
    const auto dir = fresh_test_dir();
    const auto r = lastcall({"run", (dir / "nosuch.yaml").string(), "--run-dir", (dir / "runs").string()}, dir);
    EXPECT_EQ(r.status.code, 2);
    EXPECT_EQ(r.err, (dir / "nosuch.yaml").string() + ": cannot read the file: No such file or directory\n");
}

// `lastcall check ... --json -`: the suite report alone on stdout, what people read on stderr.
CliResult check_with_json_on_stdout(const fs::path& dir, const std::vector<std::string>& server_args) {
    std::vector<std::string> args{"check", "--run-dir", (dir / "runs").string(), "--json", "-", "--path", "/fast", "--slow", "/slow?ms=600",
                                  "--warmup", "500ms", "--grace", "3s", "--", server_binary(), "--port", "{port}",
                                  "--state-dir", "{workdir}/state", "--global-budget", "3s"};
    args.insert(args.end(), server_args.begin(), server_args.end());
    return lastcall(args, dir);
}

std::vector<std::string> failed_checks(const nlohmann::json& suite) {
    std::vector<std::string> failed;
    for (const auto& run : suite["runs"]) {
        for (const auto& check : run["checks"]) {
            if (check["status"] == "fail") failed.push_back(check["name"].get<std::string>());
        }
    }
    return failed;
}

TEST(CommandLine, JsonDashIsTheReportAloneOnStdoutCorrectServer) {
    const auto dir = fresh_test_dir();
    const auto r = check_with_json_on_stdout(dir, {});
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    const auto suite = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(suite.is_discarded()) << "stdout is not JSON alone:\n" << r.out;
    ASSERT_EQ(suite["runs"].size(), 1u);
    EXPECT_EQ(failed_checks(suite), std::vector<std::string>{});
    EXPECT_NE(r.err.find("== check"), std::string::npos) << "the console report goes to stderr:\n" << r.err;
    EXPECT_FALSE(fs::exists(dir / "-"));
}

TEST(CommandLine, JsonDashCarriesAFailingServersVerdict) {
    const auto dir = fresh_test_dir();
    const auto r = check_with_json_on_stdout(dir, {"--fault", "no-drain"});
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    const auto suite = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(suite.is_discarded()) << "stdout is not JSON alone:\n" << r.out;
    EXPECT_NE(failed_checks(suite), std::vector<std::string>{}) << r.out;
}

TEST(ServerCommandLine, EnvironmentIsTheFallbackOfEveryFlag) {
    const auto dir = fresh_test_dir();
    const Environment environment({{"LASTCALL_SERVER_FAULT", "leak-fd"}, {"LASTCALL_SERVER_PORT", "1"}});
    ReferenceServer server(dir / "state", {});  // --port 0 on its command line wins over the variable
    auto connection = RawConnection::open(server.port());
    ASSERT_TRUE(connection);
    connection->send_get("/status");
    const auto status = connection->read_response(3s);
    ASSERT_EQ(status.status, 200);
    EXPECT_NE(status.body.find(R"("faults":"leak-fd")"), std::string::npos) << status.body;
}

TEST(ServerCommandLine, WithoutTheVariableNoFault) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    auto connection = RawConnection::open(server.port());
    ASSERT_TRUE(connection);
    connection->send_get("/status");
    const auto status = connection->read_response(3s);
    EXPECT_EQ(status.body.find("leak-fd"), std::string::npos) << status.body;
}

TEST(ServerCommandLine, BadOrRenamedVariablesAreUsageErrors) {
    const auto dir = fresh_test_dir();
    {
        const Environment environment({{"LASTCALL_SERVER_DRAIN_BUDGET", "soon"}});
        const auto r = run_binary({server_binary(), "--port", "0", "--state-dir", (dir / "state").string()}, dir);
        EXPECT_EQ(r.status.code, 2);
        EXPECT_NE(r.err.find("bad value for LASTCALL_SERVER_DRAIN_BUDGET: 'soon'"), std::string::npos) << r.err;
    }
    {
        const Environment environment({{"LASTCALL_DRAIN_BUDGET", "5s"}});
        const auto r = run_binary({server_binary(), "--port", "0", "--state-dir", (dir / "state").string()}, dir);
        EXPECT_EQ(r.status.code, 2);
        EXPECT_NE(r.err.find("LASTCALL_DRAIN_BUDGET is now called LASTCALL_SERVER_DRAIN_BUDGET"), std::string::npos) << r.err;
    }
    const auto help = run_binary({server_binary(), "--help"}, dir);
    EXPECT_EQ(help.status.code, 0);
    EXPECT_NE(help.out.find("(Env:LASTCALL_SERVER_DRAIN_BUDGET)"), std::string::npos) << help.out;
}

} // namespace
} // namespace lastcall::testing
