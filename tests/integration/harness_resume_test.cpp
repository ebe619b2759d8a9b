// stream.resume and streams_resumed in whole runs against lastcall-server as a real process: a
// resumption outlives the workload's stop time, what the client sent is what it had last
// received, and a run that never restarts the target fails the check at once instead of waiting.
#include "checks.hpp"
#include "reference_server.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace lastcall::harness {
namespace {

using lastcall::testing::fresh_test_dir;
using lastcall::testing::server_binary;

// Streams of 1.5 s, SIGTERM at 600 ms; the workload stops taking new streams at 800 ms.
std::string resume_scenario(const std::string& restart) {
    return R"(name: resume
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--stream-grace", "100ms"]
  ready: {http: /ready, timeout: 5s}
workloads:
  - name: events
    kind: stream
    request: {path: "/stream?chunks=30&interval_ms=50"}
    connections: 2
    stream: {end: {event: end, data_contains: '"reason":"complete"'}, shutdown_notice: {event: end, data_contains: shutdown}, resume: true}
    stop: 800ms
timeline:
  - at: 600ms
    signal: TERM
)" + restart + R"(limits: {max_duration: 20s}
expect:
  streams_resumed: true
)";
}

struct Judged {
    RunResult run;
    CheckResult resumed;
};

Judged run_text(const std::string& text) {
    const auto scenario = load_scenario_text(text, "test.yaml");
    RunOptions options;
    options.server_path = server_binary();
    options.run_dir = fresh_test_dir();
    Judged judged{run_scenario(scenario, options), {}};
    for (auto& c : evaluate_checks(scenario, judged.run)) {
        if (c.name == "streams_resumed") judged.resumed = c;
    }
    return judged;
}

TEST(HarnessResume, AResumptionOutlivesTheWorkloadsStopTime) {
    // The restart comes 500 ms after the exit: well after the workload's stop.
    const auto judged = run_text(resume_scenario("  - when: exited\n    delay: 500ms\n    restart_target: true\n"));
    ASSERT_EQ(judged.run.start_error, "");
    ASSERT_EQ(judged.run.generations.size(), 2u);
    EXPECT_GT(judged.run.generations[1].spawn_us, 800'000) << "the restart must come after the stop time";
    EXPECT_EQ(judged.resumed.status, CheckStatus::pass) << judged.resumed.message << " "
                                                        << (judged.resumed.evidence.empty() ? "" : judged.resumed.evidence[0]);
    EXPECT_EQ(judged.resumed.measured, "2 of 2 resumed");

    // streams.jsonl: each resumption sent the last id its stream had received, and got the next one first.
    std::ifstream in(judged.run.run_dir / "streams.jsonl");
    std::map<std::uint64_t, nlohmann::json> by_request;
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        by_request[j.at("request").get<std::uint64_t>()] = j;
    }
    int resumed = 0;
    for (const auto& [id, j] : by_request) {
        if (j.at("resume_of").get<std::uint64_t>() == 0 || j.at("first_id").get<std::string>().empty()) continue;
        const auto& before = by_request.at(j.at("resume_of").get<std::uint64_t>());
        EXPECT_EQ(j.at("sent_last_event_id"), before.at("last_id"));
        EXPECT_TRUE(id_follows(before.at("last_id").get<std::string>(), j.at("first_id").get<std::string>())) << j.dump();
        ++resumed;
    }
    EXPECT_EQ(resumed, 2);
}

TEST(HarnessResume, WithoutARestartTheCheckFailsAndTheRunDoesNotWaitForIt) {
    const auto judged = run_text(resume_scenario(""));
    ASSERT_EQ(judged.run.start_error, "");
    EXPECT_EQ(judged.resumed.status, CheckStatus::fail);
    EXPECT_NE(judged.resumed.message.find("never restarted"), std::string::npos) << judged.resumed.message;
    EXPECT_FALSE(judged.run.limit_reached) << "a pending resumption must not hold the run until max_duration";
}

} // namespace
} // namespace lastcall::harness
