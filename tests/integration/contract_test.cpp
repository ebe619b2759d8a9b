// The scenario's contract against a real server nobody wrote for lastcall
// (tests/support/targets/contract_target.py), through the CLI: stream end markers, job polling by
// JSON pointer, a set of acknowledged writes, body expectations, exit lists, checks turned off,
// ${VAR}. Each convention fails where the server breaks it and passes where it keeps it.
#include "child_process.hpp"
#include "test_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;
using lastcall::testing::ChildProcess;
using lastcall::testing::fresh_test_dir;
using nlohmann::json;

struct CliRun {
    std::optional<lastcall::testing::ExitStatus> exit;
    json report;
    fs::path run_dir;
    std::string output;
    json check(const std::string& name) const {
        if (report.is_discarded() || report["runs"].empty()) return nullptr;
        for (const auto& c : report["runs"][0]["checks"]) {
            if (c["name"] == name) return c;
        }
        return nullptr;
    }
    // "workload outcome failure" -> count, from history.jsonl.
    std::map<std::string, int> outcomes() const {
        std::map<std::string, int> out;
        std::ifstream in(run_dir / "history.jsonl");
        for (std::string line; std::getline(in, line);) {
            const auto r = json::parse(line, nullptr, false);
            if (r.is_discarded()) continue;
            const auto failure = r.value("failure", "");  // left out when none (harness/history.hpp)
            ++out[fmt::format("{} {}{}", r["workload"].get<std::string>(), r["outcome"].get<std::string>(), failure.empty() ? "" : " " + failure)];
        }
        return out;
    }
};

CliRun run_cli(const std::string& scenario, const std::vector<std::string>& extra = {}) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "scenario.yaml") << scenario;
    std::vector<std::string> argv{LASTCALL_BINARY, "run", (dir / "scenario.yaml").string(), "--run-dir", (dir / "runs").string(), "--json",
                                  (dir / "out.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess cli(argv, dir / "stderr");
    CliRun out;
    while (const auto line = cli.read_line(std::chrono::seconds(60))) out.output += *line + "\n";
    out.exit = cli.wait(std::chrono::seconds(10));
    std::ifstream in(dir / "out.json");
    out.report = json::parse(in, nullptr, false);
    if (!out.report.is_discarded() && !out.report["runs"].empty()) out.run_dir = out.report["runs"][0]["run_dir"].get<std::string>();
    std::ifstream err(dir / "stderr");
    out.output += std::string(std::istreambuf_iterator<char>(err), {});
    return out;
}

// The target in MODE, load stopped before SIGTERM (the python server's keep-alive threads die
// with it), a restart when `restart`. Its /ready keeps answering until serve_forever notices the
// shutdown (up to 0.5 s): readiness_flip is off, and the report must say so.
std::string scenario(const std::string& mode, const std::string& workloads, const std::string& expect, bool restart = false) {
    return fmt::format(R"(name: contract
target:
  command: ["python3", "{}", "{{port}}", "{{workdir}}/state", "{}"]
  ready: {{http: /ready, timeout: 10s}}
workloads:
{}
timeline:
  - at: 1s
    stop_load: all
  - at: 1200ms
    signal: TERM
{}limits: {{max_duration: 20s}}
expect:
  readiness_flip: off
{}
)",
                       CONTRACT_TARGET, mode, workloads, restart ? "  - when: exited\n    restart_target: true\n" : "", expect);
}

TEST(ScenarioContractRun, DoneMarkerStreamsAreCleanAndAStreamWithoutItIsTruncated) {
    const auto run = run_cli(scenario("plain", R"(  - name: done
    kind: stream
    request: {path: /stream}
    keep_alive: false
    max_requests: 4
    stream: {end: {data: "[DONE]"}}
  - name: nodone
    kind: stream
    request: {path: /stream-nodone}
    keep_alive: false
    max_requests: 4
    stream: {end: {data: "[DONE]"}})",
                                      "  exit: 0"));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    const auto c = run.check("streams_clean");
    EXPECT_EQ(c["status"], "fail") << c.dump();
    EXPECT_EQ(c["measured"], "done: 4 of 4 ended with marker data: [DONE]; nodone: 0 of 4 ended with marker data: [DONE]") << c.dump();
    const auto outcomes = run.outcomes();
    EXPECT_EQ(outcomes.at("done ok"), 4) << json(outcomes).dump();
    EXPECT_EQ(outcomes.at("nodone dropped truncated_stream"), 4) << json(outcomes).dump();
    const auto flip = run.check("readiness_flip");
    EXPECT_EQ(flip["status"], "skip");
    EXPECT_EQ(flip["message"], "off in the scenario");
}

TEST(ScenarioContractRun, WithoutAMarkerTheEndOfTheHttpMessageIsTheEnd) {
    const auto run = run_cli(scenario("plain", R"(  - name: nodone
    kind: stream
    request: {path: /stream-nodone}
    keep_alive: false
    max_requests: 4)",
                                      "  exit: [0, 143]"));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 0) << run.output;
    const auto c = run.check("streams_clean");
    EXPECT_EQ(c["status"], "pass") << c.dump();
    EXPECT_EQ(c["measured"], "nodone: 4 of 4 ended with the HTTP message");
    EXPECT_EQ(run.check("exit")["bound"], "exit 0 or exit 143");
}

const std::string blob_sha256 = "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f";  // 1000 x

TEST(ScenarioContractRun, BodiesThatBreakTheirExpectationAreErrorsNamedForIt) {
    const auto w = [](const char* name, const char* path, const std::string& body) {
        return fmt::format("  - {{name: {}, request: {{path: {}}}, keep_alive: false, max_requests: 3, expect_body: {}}}\n", name, path, body);
    };
    const auto run = run_cli(scenario("plain",
                                      w("good", "/blob", "{bytes: 1000, content_length_met: true, sha256: " + blob_sha256 + "}") +
                                          w("short", "/blob", "{bytes: 999}") +
                                          w("chunked", "/blob-chunked", "{content_length_met: true}") +
                                          w("chunked_ok", "/blob-chunked", "{bytes: 1000, sha256: " + blob_sha256 + "}") +
                                          w("digest", "/blob", "{sha256: " + std::string(64, '0') + "}"),
                                      "  exit: 0"));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    EXPECT_EQ(run.check("errors")["measured"], "9") << run.check("errors").dump();
    const auto outcomes = run.outcomes();
    EXPECT_EQ(outcomes, (std::map<std::string, int>{{"good ok", 3},
                                                    {"short error body_bytes_mismatch", 3},
                                                    {"chunked error body_without_content_length", 3},
                                                    {"chunked_ok ok", 3},
                                                    {"digest error body_sha256_mismatch", 3}}))
        << json(outcomes).dump();
}

const std::string tasks_workload = R"(  - name: tasks
    kind: job
    request: {path: /tasks}
    keep_alive: false
    max_requests: 3
    job: {id: /task/key, poll: "/tasks/{id}", done: {pointer: /status, equals: finished}, poll_interval: 20ms})";

TEST(ScenarioContractRun, JobsFoundAndPolledByPointer) {
    const auto run = run_cli(scenario("json-jobs", tasks_workload, "  jobs_accounted: true\n  exit: 0", true));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 0) << run.output;
    const auto c = run.check("jobs_accounted");
    EXPECT_EQ(c["status"], "pass") << c.dump();
    EXPECT_EQ(c["measured"], "3 of 3");
}

TEST(ScenarioContractRun, AJobReplyThatIsNotJsonIsAnErrorNotACrash) {
    const auto run = run_cli(scenario("text-jobs", tasks_workload, "  jobs_accounted: true\n  exit: 0", true));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    EXPECT_EQ(run.outcomes(), (std::map<std::string, int>{{"tasks error reply_value_missing", 3}})) << json(run.outcomes()).dump();
    EXPECT_EQ(run.check("errors")["status"], "fail");
}

const std::string set_workload = R"(  - name: adds
    request: {method: POST, path: /set/add}
    keep_alive: false
    connections: 2
    max_requests: 40)";
const std::string set_expect = "  acked_writes: {workload: adds, model: set, element: {from: reply, pointer: /element}, "
                               "read: {path: /set, pointer: /elements}}\n  exit: [0, 143]";

TEST(ScenarioContractRun, AckedSetElementsSurviveWhenTheServerKeepsThem) {
    const auto run = run_cli(scenario("durable-set", set_workload, set_expect, true));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 0) << run.output;
    const auto c = run.check("acked_writes_durable");
    EXPECT_EQ(c["status"], "pass") << c.dump();
    EXPECT_EQ(c["measured"], "40 of 40 present");
}

TEST(ScenarioContractRun, AckedSetElementsLostAcrossARestartFail) {
    const auto run = run_cli(scenario("forgetful-set", set_workload, set_expect, true));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    const auto c = run.check("acked_writes_durable");
    EXPECT_EQ(c["status"], "fail") << c.dump();
    EXPECT_EQ(c["measured"], "0 of 40 present");
    EXPECT_EQ(c["message"], "40 acknowledged elements were lost across the restart");
    EXPECT_NE(c["evidence"][0].get<std::string>().find("missing: \"e-"), std::string::npos) << c.dump();
}

TEST(ScenarioContractRun, ExitListsAndVariablesFromTheCommandLine) {
    // ${MODE} comes from --var; the exit list does not hold what the target did (exit 0).
    auto text = scenario("${MODE}", "  - {name: a, request: {path: /blob}, keep_alive: false, max_requests: 2}", "  exit: [3, SIGTERM]\n  dropped: off");
    const auto run = run_cli(text, {"--var", "MODE=plain"});
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 1) << run.output;
    const auto c = run.check("exit");
    EXPECT_EQ(c["status"], "fail") << c.dump();
    EXPECT_EQ(c["bound"], "exit 3 or SIGTERM");
    EXPECT_EQ(c["measured"], "exit 0");
    EXPECT_EQ(run.check("dropped")["message"], "off in the scenario");
    // Without the variable: an error at the scalar, exit 2, nothing started.
    const auto unset = run_cli(text);
    ASSERT_TRUE(unset.exit);
    EXPECT_EQ(unset.exit->code, 2) << unset.output;
    const auto line3_start = text.find('\n', text.find('\n') + 1) + 1;
    const auto column = text.find("\"${MODE}\"") - line3_start + 1;
    EXPECT_NE(unset.output.find(fmt::format("scenario.yaml:3:{}: variable MODE is not set", column)), std::string::npos) << unset.output;
    // validate takes --var too.
    const auto dir = fresh_test_dir("-validate");
    std::ofstream(dir / "s.yaml") << text;
    for (const bool with_var : {true, false}) {
        std::vector<std::string> argv{LASTCALL_BINARY, "validate", (dir / "s.yaml").string()};
        if (with_var) argv.insert(argv.end(), {"--var", "MODE=plain"});
        ChildProcess cli(argv, dir / "stderr");
        while (cli.read_line(std::chrono::seconds(10))) {
        }
        const auto status = cli.wait(std::chrono::seconds(10));
        ASSERT_TRUE(status);
        EXPECT_EQ(status->code, with_var ? 0 : 2);
    }
}

// A target already told to shut down is left to it: lastcall's own stop at the end of the
// timeline came microseconds after the scenario's SIGTERM, a second signal many servers take as
// "stop now" (Python died of it in its finalization: Supervisor.OrphanedGrandchildren... was
// flaky), and the exit was then put down to lastcall (drain_tail skipped as "no exit of its own").
TEST(ScenarioContractRun, ASignalledTargetIsNotSentASecondSigterm) {
    // No workload: the timeline's end is the end of everything lastcall had to do.
    const auto run = run_cli(scenario("second-term-fast", "  []", "  exit: 0"));
    ASSERT_TRUE(run.exit) << run.output;
    EXPECT_EQ(run.exit->code, 0) << run.output;
    EXPECT_EQ(run.check("exit")["measured"], "exit 0") << run.check("exit").dump();
    std::ifstream in(run.run_dir / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
        const auto e = json::parse(line, nullptr, false);
        EXPECT_NE(e["type"], "cleanup") << line;
        if (e["type"] == "exit") EXPECT_EQ(e["by_lastcall"], false) << line;
    }
    EXPECT_NE(run.check("drain_tail")["message"], "no exit of its own") << run.check("drain_tail").dump();
}

// "not ready within N ms" says what the probe last got: the status, or why there was none.
TEST(ScenarioContractRun, NotReadySaysWhatTheProbeLastGot) {
    const auto http = run_cli(fmt::format(R"(name: never-ready
target:
  command: ["python3", "{}", "{{port}}", "{{workdir}}/state", "plain"]
  ready: {{http: /not-here, timeout: 1500ms}}
workloads:
  - {{name: a, max_requests: 1}}
timeline: [{{at: 1s, signal: TERM}}]
)",
                                          CONTRACT_TARGET));
    ASSERT_TRUE(http.exit);
    EXPECT_EQ(http.exit->code, 3) << http.output;
    EXPECT_NE(http.output.find("not ready within 1500 ms (last probe: GET /not-here answered 404)"), std::string::npos) << http.output;
    const auto tcp = run_cli(R"(name: never-listens
target:
  command: ["sleep", "30"]
  ready: {tcp: true, timeout: 300ms}
workloads:
  - {name: a, max_requests: 1}
timeline: [{at: 1s, signal: TERM}]
)");
    ASSERT_TRUE(tcp.exit);
    EXPECT_EQ(tcp.exit->code, 3) << tcp.output;
    EXPECT_NE(tcp.output.find("not ready within 300 ms (last probe: connect to 127.0.0.1:"), std::string::npos) << tcp.output;
    EXPECT_NE(tcp.output.find(": Connection refused)"), std::string::npos) << tcp.output;
}

} // namespace
} // namespace lastcall::harness
