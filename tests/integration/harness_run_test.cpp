// Whole scenario runs against lastcall-server as a real process: the history must tell the
// correct server from the faulty one, and nothing may be left running.
#include "checks.hpp"
#include "child_process.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "proc_reader.hpp"
#include "run_artifacts.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iterator>
#include <set>

namespace lastcall::harness {
namespace {

using lastcall::testing::fresh_test_dir;
using lastcall::testing::server_binary;

std::string slow_scenario(const std::string& fault) {
    return R"(name: slow-sigterm
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state")" +
           (fault.empty() ? "" : ", \"--fault\", \"" + fault + "\"") + R"(]
  ready: {http: /ready, timeout: 5s}
  shutdown_report: "{workdir}/state/shutdown-report.json"
workloads:
  - name: slow
    request: {path: "/slow?ms=600"}
    connections: 3
timeline:
  - at: 300ms
    signal: TERM
limits: {max_duration: 15s}
)";
}

RunResult run_text(const std::string& text) {
    RunOptions options;
    options.server_path = server_binary();
    options.run_dir = fresh_test_dir();
    return run_scenario(load_scenario_text(text, "test.yaml"), options);
}

std::vector<std::string> history_lines(const RunResult& result) {
    std::ifstream in(result.run_dir / "history.jsonl");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::size_t count(const RunResult& r, Outcome o) { return r.outcomes[static_cast<std::size_t>(o)]; }

TEST(HarnessRun, CorrectServerCompletesSlowRequestsAndRejectsLaterOnes) {
    const auto result = run_text(slow_scenario(""));
    ASSERT_TRUE(result.exit);
    EXPECT_TRUE(result.exit->exited);
    EXPECT_EQ(result.exit->code, 0);
    EXPECT_EQ(count(result, Outcome::ok), 3u) << "the three slow requests in flight at SIGTERM";
    EXPECT_GE(count(result, Outcome::rejected), 1u) << "requests after the listener closed";
    EXPECT_EQ(count(result, Outcome::dropped), 0u);
    EXPECT_TRUE(result.port_released);
    EXPECT_TRUE(result.orphans.empty());
    ASSERT_EQ(result.signals.size(), 1u);
    EXPECT_EQ(result.signals[0].signal, SIGTERM);
    // The slow ones come first by intended time; everything after them was refused.
    const auto lines = history_lines(result);
    ASSERT_GE(lines.size(), 4u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_NE(lines[i].find(R"("outcome":"ok")"), std::string::npos) << lines[i];
    for (std::size_t i = 3; i < lines.size(); ++i) EXPECT_NE(lines[i].find(R"("outcome":"rejected")"), std::string::npos) << lines[i];
    for (const auto* file : {"events.jsonl", "samples.jsonl", "run.json", "target-1.stderr", "shutdown-report-1.json"}) {
        EXPECT_TRUE(std::filesystem::exists(result.run_dir / file)) << file;
    }
}

TEST(HarnessRun, NoDrainServerDropsThem) {
    const auto result = run_text(slow_scenario("no-drain"));
    ASSERT_TRUE(result.exit);
    EXPECT_FALSE(result.exit->exited);
    EXPECT_EQ(result.exit->signal, SIGTERM);
    // The three in flight, and sometimes a reconnect whose handshake the dying kernel socket accepted.
    EXPECT_GE(count(result, Outcome::dropped), 3u);
    EXPECT_EQ(count(result, Outcome::ok), 0u);
}

// The history goes to disk as the run goes (unlinked files: nothing stays in the run directory but
// history.jsonl). Past limits.history_bytes records are dropped: run.json says how many, and
// harness_errors fails, since every other verdict then judged part of the run.
TEST(HarnessRun, HistoryPastItsLimitIsDroppedAndFailsHarnessErrors) {
    const auto scenario = [](const std::string& limits) {
        return R"(name: fast-history
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: fast
    request: {path: "/fast"}
    connections: 2
    max_requests: 2000
limits: {max_duration: 15s)" + limits + "}\n";
    };
    const auto harness_errors = [](const std::string& text, RunResult& result) {
        const auto parsed = load_scenario_text(text, "test.yaml");
        RunOptions options;
        options.server_path = server_binary();
        options.run_dir = fresh_test_dir(std::to_string(text.size()));
        result = run_scenario(parsed, options);
        for (auto& c : evaluate_checks(parsed, result)) {
            if (c.name == "harness_errors") return c;
        }
        return CheckResult{};
    };
    RunResult whole;
    const auto passed = harness_errors(scenario(""), whole);
    EXPECT_EQ(passed.status, CheckStatus::pass) << passed.message;
    EXPECT_EQ(whole.requests, 2000u);
    EXPECT_EQ(whole.history_dropped, 0u);
    EXPECT_EQ(history_lines(whole).size(), 2000u);

    RunResult capped;
    const auto failed = harness_errors(scenario(", history_bytes: 4096"), capped);
    EXPECT_EQ(failed.status, CheckStatus::fail);
    ASSERT_FALSE(failed.evidence.empty());
    EXPECT_NE(failed.evidence[0].find("not recorded: the history reached limits.history_bytes (4096 bytes)"), std::string::npos) << failed.evidence[0];
    EXPECT_GT(capped.history_dropped, 0u);
    EXPECT_LE(capped.history_bytes, 4096u);
    EXPECT_EQ(capped.requests + capped.history_dropped, 2000u);
    // history.jsonl's own share of the limit is gone too: it keeps the requests not ok (none here)
    // and says how many ok ones it left out (HistoryJsonlPastItsBudget... below).
    EXPECT_EQ(history_lines(capped).size() + capped.history_jsonl_ok_left_out, capped.requests);
    std::ifstream run_json(capped.run_dir / "run.json");
    const std::string text{std::istreambuf_iterator<char>(run_json), {}};
    EXPECT_NE(text.find(R"("dropped": )" + std::to_string(capped.history_dropped)), std::string::npos) << text.substr(0, 2000);
    for (const auto& entry : std::filesystem::directory_iterator(capped.run_dir)) {
        EXPECT_EQ(entry.path().filename().string().find("lastcall-history-"), std::string::npos) << entry.path();
    }
}

// history.jsonl past its budget (limits.history_bytes less the sorted history and room for the
// requests not ok): every request not ok stays, and every one the checks quote; the ok ones after
// it are left out, counted, and run.json says so. The checks judged the sorted history, so their
// verdicts are the whole run's: the same as with the default limit, harness_errors passing.
TEST(HarnessRun, HistoryJsonlPastItsBudgetKeepsEveryRequestNotOkAndSaysHowManyOkItLeftOut) {
    const auto scenario = [](const std::string& limits) {
        return R"(name: jsonl-budget
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
threads: 1
workloads:
  - name: fast
    request: {path: "/fast"}
    connections: 2
    max_requests: 3000
  - name: missing
    request: {path: "/no-such-page"}
    connections: 1
    max_requests: 50
limits: {max_duration: 15s)" + limits + "}\n";
    };
    const auto run = [](const std::string& text, std::vector<CheckResult>& checks) {
        const auto parsed = load_scenario_text(text, "test.yaml");
        RunOptions options;
        options.server_path = server_binary();
        options.run_dir = fresh_test_dir(std::to_string(text.size()));
        auto result = run_scenario(parsed, options);
        checks = evaluate_checks(parsed, result);
        return result;
    };
    std::vector<CheckResult> whole_checks, capped_checks;
    const auto whole = run(scenario(""), whole_checks);
    // 3,050 requests: about 100 kB of sorted history, 580 kB of history.jsonl.
    const auto capped = run(scenario(", history_bytes: 200000"), capped_checks);

    EXPECT_EQ(whole.history_jsonl_ok_left_out, 0u);
    EXPECT_EQ(history_lines(whole).size(), whole.requests);
    EXPECT_TRUE(history_jsonl_shortened(whole).empty());

    ASSERT_EQ(capped.history_dropped, 0u) << "the sorted history itself fits";
    EXPECT_EQ(capped.requests, 3050u);
    const auto not_ok = capped.requests - count(capped, Outcome::ok);
    EXPECT_EQ(not_ok, 50u) << "every /no-such-page request is a 404: an error";
    EXPECT_GT(capped.history_jsonl_ok_left_out, 0u);
    const auto lines = history_lines(capped);
    EXPECT_EQ(lines.size(), capped.requests - capped.history_jsonl_ok_left_out);
    EXPECT_EQ(lines.size(), capped.history_jsonl_records);
    std::set<std::uint64_t> ids;
    std::uint64_t not_ok_lines = 0, bytes = 0;
    for (const auto& line : lines) {
        const auto r = nlohmann::json::parse(line);
        ids.insert(r["id"].get<std::uint64_t>());
        if (r["outcome"] != "ok") ++not_ok_lines;
        bytes += line.size() + 1;
    }
    EXPECT_EQ(not_ok_lines, not_ok) << "every request not ok is kept";
    EXPECT_EQ(bytes, capped.history_jsonl_bytes);
    EXPECT_LE(bytes + capped.history_bytes, 200000u) << "history.jsonl and the sorted history within limits.history_bytes";
    for (const auto& c : capped_checks) {
        for (const auto id : c.evidence_requests) EXPECT_TRUE(ids.contains(id)) << c.name << " quotes #" << id;
    }

    // Said where a user sees it: run.json (the console and report.html say history_jsonl_shortened).
    std::ifstream run_json(capped.run_dir / "run.json");
    const auto summary = nlohmann::json::parse(run_json);
    EXPECT_EQ(summary["history"]["jsonl"]["ok_left_out"], capped.history_jsonl_ok_left_out);
    EXPECT_EQ(summary["history"]["jsonl"]["records"], lines.size());
    const auto said = history_jsonl_shortened(capped);
    EXPECT_NE(said.find(std::to_string(capped.history_jsonl_ok_left_out) + " ok ones left out"), std::string::npos) << said;

    // The verdicts are the whole history's, not the file's.
    ASSERT_EQ(capped_checks.size(), whole_checks.size());
    for (std::size_t i = 0; i < capped_checks.size(); ++i) {
        EXPECT_EQ(capped_checks[i].name, whole_checks[i].name);
        EXPECT_EQ(capped_checks[i].status, whole_checks[i].status) << capped_checks[i].name << ": " << capped_checks[i].message;
        if (capped_checks[i].name == "harness_errors") EXPECT_EQ(capped_checks[i].status, CheckStatus::pass) << capped_checks[i].message;
    }
}

TEST(HarnessRun, OrphanChildIsFoundAndCleanedUp) {
    auto text = slow_scenario("orphan-child");
    const auto result = run_text(text);
    EXPECT_EQ(result.orphans.size(), 1u);
    const auto running = [](pid_t pid) {
        const auto stat = read_proc_stat(pid);
        return stat && stat->state != 'Z' && stat->state != 'X';  // a zombie is dead, only not yet reaped
    };
    for (const auto& orphan : result.orphans) {
        // Reported, then killed by lastcall: give the kernel a moment to finish it.
        for (int i = 0; i < 100 && running(orphan.pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        EXPECT_FALSE(running(orphan.pid)) << "lastcall left " << orphan.describe() << " running";
    }
}

TEST(HarnessRun, TargetThatNeverGetsReadyIsReportedWithItsStderr) {
    const std::string text = R"(name: broken
target:
  command: ["sh", "-c", "echo 'config is broken' >&2; exit 7"]
  ready: {tcp: true, timeout: 2s}
)";
    const auto result = run_text(text);
    const auto& message = result.start_error;
    EXPECT_NE(message.find("the target exited with status 7 "), std::string::npos) << message;
    EXPECT_NE(message.find(" s after it was started, before it was ready; its last stderr lines:"), std::string::npos) << message;
    EXPECT_NE(message.find("config is broken"), std::string::npos) << message;
}

TEST(HarnessRun, NonLoopbackTargetIsRefused) {
    const std::string text = "name: remote\ntarget: {command: [true], host: 10.1.2.3}\n";
    EXPECT_NE(run_text(text).start_error.find("not a loopback address"), std::string::npos);
}

TEST(HarnessCli, ValidateReportsFileLineColumnAndExits2) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "bad.yaml") << "name: x\ntarget: {command: [srv]}\nworkloads:\n  - name: a\n    conections: 3\n"
                                       "timeline: [{at: 1s, signal: TERM}]\n";
    lastcall::testing::ChildProcess cli({LASTCALL_BINARY, "validate", (dir / "bad.yaml").string()}, dir / "stderr");
    const auto status = cli.wait(std::chrono::seconds(10));
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 2);
    std::ifstream in(dir / "stderr");
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(text, (dir / "bad.yaml").string() + ":5:5: unknown key 'conections' in a workload (did you mean 'connections'?)\n");
}

} // namespace
} // namespace lastcall::harness
