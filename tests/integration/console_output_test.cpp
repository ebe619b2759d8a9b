// What `lastcall check` prints when nobody watches a terminal (a CI log: stdout and stderr are
// files here): the live view is plain lines on stderr, one at every change of phase (the target
// starting, ready, the signal, its exit) and every 2 s, with no escape codes; the final table has
// headed columns. --quiet leaves only the summary: no live lines, no table. On a terminal (a pty
// made by util-linux's script, from bsdutils, which Debian always installs) the live line is redrawn and the verdicts coloured, unless NO_COLOR
// or --no-color says no.
#include "child_process.hpp"
#include "test_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using CliResult = CommandResult;

CliResult check(const fs::path& dir, const std::vector<std::string>& options) {
    std::vector<std::string> argv{LASTCALL_BINARY, "check", "--run-dir", (dir / "runs").string(), "--path", "/fast", "--ready", "/ready",
                                  "--slow", "/slow?ms=600", "--warmup", "500ms", "--grace", "3s"};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const auto& word : {server_binary(), std::string("--port"), std::string("{port}"), std::string("--state-dir"),
                             std::string("{workdir}/state"), std::string("--global-budget"), std::string("3s")}) {
        argv.push_back(word);
    }
    return run_to_end(argv, dir / "stderr", 40s);
}

TEST(ConsoleOutput, InALogTheLiveViewIsPlainLinesAtEveryPhase) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {"--"});
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find('\033'), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
    for (const char* phase : {"  starting: waiting for the target to answer GET /ready on port ", "  ready | ", "  exited: exit 0 at "}) {
        EXPECT_NE(r.err.find(phase), std::string::npos) << phase << " not in:\n" << r.err;
    }
    // The signal is seen as sent, or as draining once /ready says 503: which one the view catches
    // first depends on the machine, that one of them is shown does not.
    EXPECT_TRUE(r.err.find("  signal sent: SIGTERM at ") != std::string::npos || r.err.find("  draining: SIGTERM at ") != std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find("     result check "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\033'), std::string::npos) << r.out;
}

// A target that drains for 150 ms (its drain delay: /ready answers 503 at the signal, it exits
// 150 ms later), shorter than the view's 250 ms between reports: a new user's run went from "signal
// sent" to "exited" and never showed that the target drained. Every change of phase is reported
// when the conductor sees it, so the log has a line for each.
TEST(ConsoleOutput, APhaseShorterThanTheReportIntervalStillHasItsLine) {
    const auto dir = fresh_test_dir();
    std::vector<std::string> argv{LASTCALL_BINARY, "check", "--run-dir", (dir / "runs").string(), "--path", "/fast", "--ready", "/ready",
                                  "--warmup", "500ms", "--grace", "3s", "--", server_binary(), "--port", "{port}", "--state-dir",
                                  "{workdir}/state", "--drain-delay", "150ms"};
    const auto r = run_to_end(argv, dir / "stderr", 40s);
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    const auto draining = r.err.find("  draining: SIGTERM at ");
    const auto exited = r.err.find("  exited: exit 0 at ");
    ASSERT_NE(draining, std::string::npos) << r.err;
    ASSERT_NE(exited, std::string::npos) << r.err;
    EXPECT_LT(draining, exited) << r.err;
}

// Ctrl+C during a run: the run cut short is not judged, and the console says so after the summary
// (a new user saw '0 runs: 0 passed, 0 failed' alone), and where its files are; exit 130.
TEST(ConsoleOutput, AnInterruptedRunIsSaidToBeCutShortNotJudged) {
    const auto dir = fresh_test_dir();
    ChildProcess cli({LASTCALL_BINARY, "run", std::string(LASTCALL_SCENARIOS_DIR) + "/sse-resume.yaml", "--run-dir", (dir / "runs").string()},
                     dir / "stderr");
    const auto first = cli.read_line(20s);
    ASSERT_TRUE(first && first->starts_with("== sse-resume")) << first.value_or("(nothing)");
    std::this_thread::sleep_for(1500ms);  // the run (20 s) is under way
    cli.signal(SIGINT);
    const auto status = cli.wait(30s);
    ASSERT_TRUE(status && status->exited) << "lastcall did not end after SIGINT";
    EXPECT_EQ(status->code, 130);
    std::string out;
    while (const auto line = cli.read_line(1s)) out += *line + "\n";
    EXPECT_NE(out.find("Interrupted: sse-resume run 1/1 was cut short and not judged (what it recorded: " + (dir / "runs").string()), std::string::npos)
        << out;
}

TEST(ConsoleOutput, QuietIsTheSummaryAlone) {
    const auto dir = fresh_test_dir();
    const auto r = check(dir, {"--quiet", "--"});
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "1 run: 1 passed, 0 failed\n") << "nothing before the result line, not even a blank one";
    EXPECT_EQ(r.err.find("lastcall: "), std::string::npos) << r.err;
}

TEST(ConsoleOutput, QuietStillNamesWhatFailed) {
    // A server that cuts its requests at the signal.
    const auto faulty_dir = fresh_test_dir();
    std::vector<std::string> argv{LASTCALL_BINARY, "check", "--quiet", "--run-dir", (faulty_dir / "runs").string(), "--path", "/fast",
                                  "--slow", "/slow?ms=600", "--warmup", "500ms", "--grace", "3s", "--", server_binary(), "--port", "{port}",
                                  "--state-dir", "{workdir}/state", "--fault", "no-drain"};
    ChildProcess process(argv, faulty_dir / "stderr");
    std::string out;
    while (const auto line = process.read_line(40s)) out += *line + "\n";
    const auto status = process.wait(40s).value_or(ExitStatus{false, 0, SIGKILL});
    EXPECT_EQ(status.code, 1) << out;
    EXPECT_NE(out.find("1 run: 0 passed, 1 failed"), std::string::npos) << out;
    EXPECT_NE(out.find("FAIL check: "), std::string::npos) << out;
    EXPECT_EQ(out.find("result check"), std::string::npos) << "no table with --quiet:\n" << out;
}

// A run that could not run said why three times: on stderr, in its block and in the summary. Once
// now: in its block (the summary names the run), or with --quiet in the summary alone.
TEST(ConsoleOutput, WhyARunCouldNotRunIsSaidOnce) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "echo.yaml") << "name: echo\ntarget:\n  command: [python3, " << MISBEHAVING_TARGET
                                      << ", '{port}', echo]\nworkloads: [{name: get, request: {path: /fast}, connections: 2}]\n"
                                         "timeline: [{at: 500ms, signal: TERM}]\nlimits: {max_duration: 10s}\n";
    const auto count = [](const std::string& text) {
        std::size_t n = 0;
        for (auto at = text.find("the target does not speak HTTP"); at != std::string::npos; at = text.find("the target does not speak HTTP", at + 1)) ++n;
        return n;
    };
    for (const bool quiet : {false, true}) {
        std::vector<std::string> argv{LASTCALL_BINARY, "run", (dir / "echo.yaml").string(), "--run-dir", (dir / "runs").string()};
        if (quiet) argv.push_back("--quiet");
        const auto r = run_to_end(argv, dir / "stderr", 40s);
        EXPECT_EQ(r.status.code, 3) << r.out << r.err;
        EXPECT_EQ(count(r.out) + count(r.err), 1u) << "quiet " << quiet << ":\n" << r.out << r.err;
        EXPECT_NE(r.out.find("1 run: 0 passed, 0 failed, 1 could not run"), std::string::npos) << r.out;
        if (!quiet) EXPECT_NE(r.out.find("ERROR echo: could not run (why is above)\n"), std::string::npos) << r.out;
    }
}

// A run that lastcall itself ended says so beside its verdict and in the summary: a new user's run
// failed `exit` at max_duration and only the evidence said that lastcall had killed the target.
// Here the target ignores SIGTERM (a faulty mode) and is still running at max_duration.
TEST(ConsoleOutput, ARunEndedByLastcallAtMaxDurationSaysSo) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "deaf.yaml") << fmt::format(R"(name: deaf
target:
  command: ["{}", "--port", "{{port}}", "--state-dir", "{{workdir}}/state", "--fault", "ignore-sigterm"]
  ready: {{http: /ready, timeout: 10s}}
workloads: [{{name: fast, request: {{path: /fast}}, think: 50ms}}]
timeline: [{{at: 300ms, signal: TERM}}]
limits: {{max_duration: 1500ms}}
)",
                                                    server_binary());
    const auto r = run_to_end({LASTCALL_BINARY, "run", (dir / "deaf.yaml").string(), "--run-dir", (dir / "runs").string()}, dir / "stderr", 40s);
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    const std::string ended = "     ended: limits.max_duration (1500ms) was reached with the target still running: lastcall killed it (SIGKILL)\n";
    const auto verdict = r.out.find("   FAIL deaf\n" + ended);
    EXPECT_NE(verdict, std::string::npos) << "beside the verdict:\n" << r.out;
    const auto summary = r.out.find("1 run: 0 passed, 1 failed");
    ASSERT_NE(summary, std::string::npos) << r.out;
    EXPECT_NE(r.out.find(ended, summary), std::string::npos) << "in the summary:\n" << r.out;
}

// A reload alone (what explore shrinks a reload's failure to): no shutdown signal, so lastcall
// ends the target once the timeline and the load are done, and says so.
TEST(ConsoleOutput, ARunWithoutAShutdownSignalSaysLastcallStoppedTheTarget) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "reload.yaml") << fmt::format(R"(name: reload
target:
  command: ["{}", "--port", "{{port}}", "--state-dir", "{{workdir}}/state", "--workers", "2", "--threads", "1"]
  ready: {{http: /ready, timeout: 10s}}
workloads: [{{name: fast, request: {{path: /fast}}, think: 50ms, stop: 1s}}]
timeline: [{{at: 300ms, reload: true}}]
limits: {{max_duration: 20s}}
)",
                                                      server_binary());
    const auto r = run_to_end({LASTCALL_BINARY, "run", (dir / "reload.yaml").string(), "--run-dir", (dir / "runs").string()}, dir / "stderr", 60s);
    EXPECT_NE(r.out.find("\n     ended: the timeline sent no shutdown signal; lastcall stopped the target itself (SIGTERM, SIGKILL 5 s later) "
                         "when the timeline and the load were done, at "),
              std::string::npos)
        << r.out << r.err;
}

// What a person at a terminal sees (stdout and stderr on one pty, as script records them).
std::string on_a_terminal(const fs::path& dir, const std::string& environment, const std::string& option, const std::string& before = "") {
    const auto command = fmt::format("{}env {} {} check {} --run-dir {} --path /fast --warmup 300ms --grace 3s -- {} --port {{port}} "
                                     "--state-dir {{workdir}}/state --global-budget 3s",
                                     before, environment, LASTCALL_BINARY, option, (dir / "runs").string(), server_binary());
    ChildProcess script({"/usr/bin/script", "-qec", command, "/dev/null"}, dir / "stderr");
    std::string screen;
    while (const auto line = script.read_line(40s)) screen += *line + "\n";
    const auto status = script.wait(40s);
    EXPECT_TRUE(status && status->exited && status->code == 0) << screen;
    return screen;
}

TEST(ConsoleOutput, OnATerminalColourUnlessNoColorSaysNo) {
    const auto coloured = on_a_terminal(fresh_test_dir(), "", "");
    EXPECT_NE(coloured.find("\033[1;32mPASS\033[0m check"), std::string::npos) << coloured;
    EXPECT_NE(coloured.find("\r\033[K"), std::string::npos) << "the live line is redrawn in place:\n" << coloured;
    for (const auto& [environment, option] : {std::pair<std::string, std::string>{"NO_COLOR=1", ""}, {"", "--no-color"}}) {
        const auto plain = on_a_terminal(fresh_test_dir(), environment, option);
        EXPECT_NE(plain.find("PASS check"), std::string::npos) << plain;
        EXPECT_EQ(plain.find("\033[1;32m"), std::string::npos) << environment << option << ":\n" << plain;
        EXPECT_EQ(plain.find("\033[32m"), std::string::npos) << environment << option << ":\n" << plain;
    }
}

// At 80 columns the line was cut at "draining: SIGTERM at 1.00s, not ready | 81322 req/s,": the
// in-flight and failure counts, what a person watches once the signal is sent, were lost. Every
// line drawn after the signal fits the terminal and still says what is in flight.
TEST(ConsoleOutput, AtEightyColumnsTheLineAfterTheSignalStillSaysWhatIsInFlight) {
    const auto screen = on_a_terminal(fresh_test_dir(), "NO_COLOR=1", "", "stty cols 80; ");
    int after_signal = 0;
    for (std::size_t at = screen.find("\033[K"); at != std::string::npos; at = screen.find("\033[K", at)) {
        at += 3;
        const auto line = screen.substr(at, screen.find_first_of("\r\n", at) - at);
        if (line.find("signal sent") == std::string::npos && line.find("draining") == std::string::npos) continue;
        ++after_signal;
        EXPECT_LE(line.size(), 79u) << line;
        // Whole parts only: the old line ended "in flight " with its count cut off.
        const auto count = line.find("in flight ");
        ASSERT_NE(count, std::string::npos) << line;
        EXPECT_TRUE(count + 10 < line.size() && std::isdigit(static_cast<unsigned char>(line[count + 10]))) << line;
        EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(line.back())) || line.back() == ')') << "cut mid-part: " << line;
    }
    EXPECT_GT(after_signal, 0) << screen;
}

} // namespace
} // namespace lastcall::testing
