// Behind `proxy:` the load only ever talks to lastcall's proxy, which accepts every connection and
// answers HTTP (its own 502/504) whatever the target did. A target that does not speak HTTP, or
// that took no request before the signal, is still a setup error (exit 3), as without the proxy:
// the proxy's records say what the target answered. Real processes throughout.
#include "checks.hpp"
#include "child_process.hpp"
#include "judged_run.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace lastcall::harness {
namespace {



// misbehaving_target.py in `mode`, SIGTERM at 500 ms, with or without the proxy in front.
std::string target_scenario(const std::string& mode, bool proxied) {
    return R"(name: proxied-setup-error
target:
  command: ["python3", ")" + std::string(MISBEHAVING_TARGET) + R"(", "{port}", ")" + mode + R"("]
)" + (proxied ? "proxy: {endpoint_lag: 200ms, response_timeout: 1s}\n" : "") +
           R"(workloads:
  - name: get
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: 500ms
    signal: TERM
limits: {max_duration: 10s}
expect: {exit: [0, TERM]}
)";
}

constexpr auto through_proxy = "Seen through lastcall's proxy (proxy:)";

// What a setup error says up to where the run's own figures begin: the same with and without the proxy.
std::string opening(const std::string& message) { return message.substr(0, message.find_first_of("0123456789:")); }

TEST(ProxyRun, ATargetThatDoesNotSpeakHttpIsTheSameSetupErrorAsWithoutTheProxy) {
    std::vector<CheckResult> checks;
    const auto direct = run_and_judge(target_scenario("garbage", false), checks, "-garbage-direct");
    const auto garbage = run_and_judge(target_scenario("garbage", true), checks, "-garbage");
    ASSERT_TRUE(garbage.proxied);
    EXPECT_TRUE(checks.empty()) << "nothing judged: before, 'dropped' failed on the proxy's 502s";
    EXPECT_EQ(opening(garbage.start_error), opening(direct.start_error)) << garbage.start_error;
    EXPECT_NE(garbage.start_error.find("the target does not speak HTTP: it answered none of the run's requests with an HTTP status line before the signal at "),
              std::string::npos)
        << garbage.start_error;
    EXPECT_NE(garbage.start_error.find("began \"\\x00hello from nc\\r\\n\""), std::string::npos) << garbage.start_error;
    EXPECT_NE(direct.start_error.find("began \"\\x00hello from nc\\r\\n\""), std::string::npos) << direct.start_error;
    // Named in the scenario's terms: the load's request that got the proxy's 502 for it.
    EXPECT_NE(garbage.start_error.find("the first (a request of workload get, sent at "), std::string::npos) << garbage.start_error;
    EXPECT_NE(garbage.start_error.find(through_proxy), std::string::npos) << garbage.start_error;
    EXPECT_EQ(direct.start_error.find(through_proxy), std::string::npos) << direct.start_error;
    std::ifstream proxy_lines(garbage.run_dir / "proxy.jsonl");
    std::string line;
    bool kept = false;
    while (std::getline(proxy_lines, line)) kept = kept || line.find(R"("not_http":")") != std::string::npos;
    EXPECT_TRUE(kept) << "proxy.jsonl keeps what the target began with";

    const auto echo = run_and_judge(target_scenario("echo", true), checks, "-echo");
    EXPECT_TRUE(checks.empty());
    EXPECT_NE(echo.start_error.find("began \"GET /fast HTTP/1.1\\r\\n"), std::string::npos) << echo.start_error;
    EXPECT_GT(echo.answers.not_http, 0u);
}

// `full` never accepts: the proxy's connects hang in its backlog until the proxy's connect_timeout
// (504), after the signal. Before, the load's connects to the proxy counted as taken requests and
// the run judged it: 'dropped'.
TEST(ProxyRun, ATargetThatTookNoRequestBeforeTheSignalIsTheSameSetupErrorAsWithoutTheProxy) {
    std::vector<CheckResult> checks;
    const auto direct = run_and_judge(target_scenario("full", false), checks, "-full-direct");
    const auto full = run_and_judge(target_scenario("full", true), checks, "-full");
    EXPECT_TRUE(checks.empty()) << "nothing judged";
    EXPECT_EQ(opening(full.start_error), opening(direct.start_error)) << full.start_error;
    EXPECT_NE(full.start_error.find("the target answered nothing before the signal at "), std::string::npos) << full.start_error;
    EXPECT_NE(full.start_error.find(" ended upstream_"), std::string::npos) << "the proxy's failed connect: " << full.start_error;
    EXPECT_NE(full.start_error.find(through_proxy), std::string::npos) << full.start_error;
}

// Where the target took requests behind the proxy the run is judged as before: one that accepts
// and never answers fails on dropped, and the reference server passes.
TEST(ProxyRun, ATargetThatTookRequestsBehindTheProxyIsJudgedNotASetupError) {
    std::vector<CheckResult> checks;
    const auto silent = run_and_judge(target_scenario("silent", true), checks, "-silent");
    EXPECT_EQ(silent.start_error, "");
    EXPECT_GT(silent.outcomes[static_cast<std::size_t>(Outcome::dropped)], 0u);
    EXPECT_FALSE(checks.empty());

    const auto server = run_and_judge(R"(name: served-through-proxy
target:
  command: ["{server}", "--port", "{port}", "--state-dir", "{workdir}/state", "--drain-delay", "600ms"]
  ready: {http: /ready, timeout: 5s}
proxy: {endpoint_lag: 300ms}
workloads:
  - name: get
    request: {path: "/fast"}
    connections: 2
timeline:
  - at: 500ms
    signal: TERM
limits: {max_duration: 10s}
)",
                                      checks, "-server");
    ASSERT_EQ(server.start_error, "");
    ASSERT_TRUE(server.proxied);
    EXPECT_FALSE(checks.empty());
    for (const auto& c : checks) EXPECT_NE(c.status, CheckStatus::fail) << c.name << ": " << c.measured << " " << c.message;
    EXPECT_EQ(server.answers.not_http, 0u);
    EXPECT_GE(server.answers.first_http_us, 0) << "the proxy saw the target answer HTTP";
}

} // namespace
} // namespace lastcall::harness
