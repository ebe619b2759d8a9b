// Whole scenario runs against lastcall-server as a real process: the history must tell the
// correct server from the faulty one, and nothing may be left running.
#include "checks.hpp"
#include "child_process.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "proc_reader.hpp"
#include "run_artifacts.hpp"
#include "scenario_run.hpp"

#include <fmt/format.h>
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
    EXPECT_EQ(capped.requests, 2000u) << "the counts are of what happened, not of what was recorded";
    EXPECT_EQ(capped.outcomes[static_cast<std::size_t>(Outcome::ok)], 2000u);
    // history.jsonl's own share of the limit is gone too: it keeps the requests not ok (none here)
    // and says how many ok ones it left out (HistoryJsonlPastItsBudget... below).
    EXPECT_EQ(history_lines(capped).size() + capped.history_jsonl_ok_left_out, capped.requests - capped.history_dropped);
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

RunResult run_and_judge(const std::string& text, std::vector<CheckResult>& checks, const std::string& dir = "") {
    const auto parsed = load_scenario_text(text, "test.yaml");
    RunOptions options;
    options.server_path = server_binary();
    options.run_dir = fresh_test_dir(dir);
    auto result = run_scenario(parsed, options);
    checks = evaluate_checks(parsed, result);
    return result;
}

const CheckResult* check_named(const std::vector<CheckResult>& checks, const std::string& name) {
    for (const auto& c : checks) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

// An open workload at a rate lastcall cannot start (1 M/s, the most a scenario may ask) drove a fraction of the load the
// scenario promised: workloads_ran fails naming the workload and its figures, and run.json says
// what each open loop came to. A modest rate passes.
TEST(HarnessRun, OpenWorkloadThatCannotKeepItsRateFailsWorkloadsRan) {
    const auto scenario = [](const std::string& rate) {
        return R"(name: open-rate
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: flood
    mode: open
    rate: )" + rate + R"(
    request: {path: "/fast"}
    stop: 1s
timeline:
  - at: 1500ms
    signal: TERM
limits: {max_duration: 15s}
)";
    };
    std::vector<CheckResult> checks;
    const auto flood = run_and_judge(scenario("1000000/s"), checks, "-flood");
    const auto* ran = check_named(checks, "workloads_ran");
    ASSERT_NE(ran, nullptr);
    EXPECT_EQ(ran->status, CheckStatus::fail) << ran->measured;
    EXPECT_NE(ran->message.find("workload 'flood' started "), std::string::npos) << ran->message;
    EXPECT_NE(ran->message.find("its 1000000/s schedule had due in"), std::string::npos) << ran->message;
    ASSERT_EQ(flood.open_loops.size(), 1u);
    const auto& t = flood.open_loops[0];
    EXPECT_GT(t.behind + t.skipped, t.due() / 2) << "most of 1 M arrivals were never sent";
    EXPECT_NE(ran->message.find(fmt::format("started {} of the {} arrivals", t.started, t.due())), std::string::npos) << ran->message;
    std::ifstream run_json(flood.run_dir / "run.json");
    const auto summary = nlohmann::json::parse(run_json);
    ASSERT_EQ(summary["open_loops"].size(), 1u);
    EXPECT_EQ(summary["open_loops"][0]["workload"], "flood");
    EXPECT_EQ(summary["open_loops"][0]["never_started"], t.behind);
    EXPECT_EQ(summary["open_loops"][0]["due"], t.due());

    const auto modest = run_and_judge(scenario("100/s"), checks, "-modest");
    ran = check_named(checks, "workloads_ran");
    ASSERT_NE(ran, nullptr);
    EXPECT_EQ(ran->status, CheckStatus::pass) << ran->message;
    ASSERT_EQ(modest.open_loops.size(), 1u);
    EXPECT_GT(modest.open_loops[0].started, 0u);
    EXPECT_EQ(modest.open_loops[0].skipped, 0u);
}

// Past a tiny limits.history_bytes the counts are still of every request (the counters beside the
// history), and a check with no record to judge says the records were not kept rather than that
// nothing happened: p99_during_drain, here, where the drain's requests all went past the cap.
TEST(HarnessRun, HistoryCapKeepsTheCountsAndChecksSayWhatWasNotRecorded) {
    std::vector<CheckResult> checks;
    const auto run = run_and_judge(R"(name: tiny-cap
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: fast
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: 1500ms
    signal: TERM
limits: {max_duration: 15s, history_bytes: 20000}
)",
                                   checks);
    ASSERT_GT(run.history_dropped, 0u);
    ASSERT_TRUE(run.recorded);
    std::uint64_t by_outcome = 0;
    for (const auto n : run.outcomes) by_outcome += n;
    EXPECT_EQ(run.requests, by_outcome);
    EXPECT_EQ(run.requests, run.recorded->size() + run.history_dropped) << "every request counted, recorded or not";
    EXPECT_EQ(run.requests_by_workload.at(0), run.requests) << "no retries here: every request a first attempt";
    std::ifstream run_json(run.run_dir / "run.json");
    const auto summary = nlohmann::json::parse(run_json);
    EXPECT_EQ(summary["requests"], run.requests);
    const auto* p99 = check_named(checks, "p99_during_drain");
    ASSERT_NE(p99, nullptr);
    EXPECT_EQ(p99->status, CheckStatus::skip);
    EXPECT_NE(p99->message.find("not recorded: history cap"), std::string::npos) << p99->message;
    const auto* errors = check_named(checks, "harness_errors");
    ASSERT_NE(errors, nullptr);
    EXPECT_EQ(errors->status, CheckStatus::fail) << "the verdicts judged part of the run";
    const auto* ran = check_named(checks, "workloads_ran");
    ASSERT_NE(ran, nullptr);
    EXPECT_EQ(ran->status, CheckStatus::pass) << ran->message;
}

// A target that never speaks HTTP (a TCP echo, an `nc -lk` answering garbage) is ready by TCP and
// fails every request with a bad response: the verdict says it does not speak HTTP and what it sent
// back, as a setup error, instead of judging its shutdown.
TEST(HarnessRun, TargetThatDoesNotSpeakHttpIsASetupErrorNamingWhatItSent) {
    const auto scenario = [](const std::string& mode) {
        return R"(name: not-http
target:
  command: ["python3", ")" + std::string(MISBEHAVING_TARGET) + R"(", "{port}", ")" + mode + R"("]
workloads:
  - name: get
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: 500ms
    signal: TERM
limits: {max_duration: 10s}
)";
    };
    std::vector<CheckResult> checks;
    const auto echo = run_and_judge(scenario("echo"), checks, "-echo");
    EXPECT_TRUE(checks.empty()) << "nothing judged";
    EXPECT_NE(echo.start_error.find("the target does not speak HTTP"), std::string::npos) << echo.start_error;
    EXPECT_NE(echo.start_error.find("began \"GET /fast HTTP/1.1\\r\\n"), std::string::npos) << echo.start_error;
    // Named in the scenario's terms: its workload and moments, not lastcall's internal request id.
    EXPECT_NE(echo.start_error.find("the first (a request of workload get, sent at "), std::string::npos) << echo.start_error;
    EXPECT_EQ(echo.start_error.find("#"), std::string::npos) << echo.start_error;
    EXPECT_GT(echo.answers.not_http, 0u);

    const auto garbage = run_and_judge(scenario("garbage"), checks, "-garbage");
    EXPECT_NE(garbage.start_error.find("began \"\\x00hello from nc\\r\\n\""), std::string::npos) << garbage.start_error;
    EXPECT_NE(garbage.start_error.find("with an HTTP status line before the signal at "), std::string::npos) << garbage.start_error;
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
