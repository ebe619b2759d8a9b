// lastcall check's options -> scenario YAML: the YAML loads, and holds what the options said, for
// any command words (quotes, backslashes, control characters, YAML syntax).
#include "quick_scenario.hpp"
#include "scenario_loader.hpp"
#include "signals.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>

namespace lastcall::harness {
namespace {

Scenario load(const QuickOptions& options) { return load_scenario_text(quick_scenario_yaml(options), "check.yaml"); }

TEST(QuickScenario, DefaultsBecomeALoadableScenario) {
    const auto options = parse_quick_options({"--", "python3", "-m", "http.server", "{port}"});
    const auto s = load(options);
    EXPECT_EQ(s.name, "check");
    EXPECT_EQ(s.target.command, (std::vector<std::string>{"python3", "-m", "http.server", "{port}"}));
    EXPECT_EQ(s.target.env.at("PORT"), "{port}");
    EXPECT_EQ(s.target.ready.http_path, "");
    ASSERT_EQ(s.workloads.size(), 1u);
    EXPECT_EQ(s.workloads[0].request.path, "/");
    EXPECT_EQ(s.workloads[0].connections, 2);
    EXPECT_TRUE(s.workloads[0].keep_alive);
    ASSERT_EQ(s.timeline.size(), 2u);
    EXPECT_EQ(s.timeline[0].at, std::chrono::seconds(1));
    EXPECT_EQ(std::get<SignalAction>(s.timeline[0].action).signal, SIGTERM);
    EXPECT_EQ(s.timeline[1].at, std::chrono::seconds(11));
    EXPECT_TRUE(std::holds_alternative<KillIfAliveAction>(s.timeline[1].action));
    EXPECT_EQ(s.max_duration, std::chrono::seconds(16));
    EXPECT_EQ(s.expect.dropped, 0u);
    ASSERT_EQ(s.expect.exit.size(), 1u);
    EXPECT_EQ(s.expect.exit[0].value, 0);
    EXPECT_FALSE(s.expect.exit[0].by_signal);
    EXPECT_EQ(s.description, "lastcall check -- python3 -m http.server {port}");
}

TEST(QuickScenario, EveryOptionReachesTheScenario) {
    const auto options = parse_quick_options({"--path", "/health?x=1", "--connections", "5", "--think", "0", "--slow", "/slow?ms=900",
                                              "--slow-connections", "3", "--ready", "/ready", "--ready-timeout", "2s", "--signal", "WINCH",
                                              "--warmup", "1500ms", "--grace", "30s", "--exit", "SIGTERM", "--port", "8080", "--name", "mine", "--shutdown-report", "{workdir}/r.json",
                                              "--", "srv"});
    const auto s = load(options);
    EXPECT_EQ(s.name, "mine");
    EXPECT_EQ(s.target.port, 8080);
    EXPECT_EQ(s.target.shutdown_report, "{workdir}/r.json");
    EXPECT_EQ(s.target.ready.http_path, "/ready");
    EXPECT_EQ(s.target.ready.timeout, std::chrono::seconds(2));
    ASSERT_EQ(s.workloads.size(), 2u);
    EXPECT_EQ(s.workloads[0].request.path, "/health?x=1");
    EXPECT_EQ(s.workloads[0].connections, 5);
    EXPECT_EQ(s.workloads[0].think, Duration::zero());
    EXPECT_EQ(s.workloads[1].request.path, "/slow?ms=900");
    EXPECT_EQ(s.workloads[1].connections, 3);
    EXPECT_EQ(std::get<SignalAction>(s.timeline[0].action).signal, SIGWINCH);
    EXPECT_EQ(s.timeline[0].at, std::chrono::milliseconds(1500));
    EXPECT_EQ(s.timeline[1].at, std::chrono::milliseconds(31500));
    ASSERT_EQ(s.expect.exit.size(), 1u);
    EXPECT_TRUE(s.expect.exit[0].by_signal);
    EXPECT_EQ(s.expect.exit[0].value, SIGTERM);
    EXPECT_EQ(s.expect.readiness_flip, std::chrono::milliseconds(100));
}

TEST(QuickScenario, ExitListsAndStreams) {
    const auto s = load(parse_quick_options({"--exit", "0,TERM,143", "--stream", "/events", "--stream-end", "[DONE]", "--", "x"}));
    EXPECT_EQ(s.expect.exit, (std::vector<Expectations::Exit>{{false, 0}, {true, SIGTERM}, {false, 143}}));
    ASSERT_EQ(s.workloads.size(), 2u);
    EXPECT_EQ(s.workloads[1].kind, WorkloadKind::stream);
    EXPECT_EQ(s.workloads[1].request.path, "/events");
    ASSERT_TRUE(s.workloads[1].stream.end);
    EXPECT_EQ(s.workloads[1].stream.end->data, "[DONE]");
    EXPECT_FALSE(load(parse_quick_options({"--stream", "/events", "--", "x"})).workloads[1].stream.end);
    EXPECT_THROW(parse_quick_options({"--stream-end", "[DONE]", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--exit", "0,,TERM", "--", "x"}), std::invalid_argument);
}

TEST(QuickScenario, SignalsByNumberAndRealtime) {
    EXPECT_EQ(std::get<SignalAction>(load(parse_quick_options({"--signal", "3", "--", "x"})).timeline[0].action).signal, SIGQUIT);
    EXPECT_EQ(std::get<SignalAction>(load(parse_quick_options({"--signal", "RTMIN+2", "--", "x"})).timeline[0].action).signal, SIGRTMIN + 2);
}

TEST(QuickScenario, CommandWordsSurviveQuoting) {
    const std::vector<std::string> words{"sh", "-c", "echo \"a\\b\" 'c' # d: [e] {f}\n\tnext", "--opt=: x", "*", "&anchor", "null", "0x10", "ü"};
    std::vector<std::string> args{"--"};
    args.insert(args.end(), words.begin(), words.end());
    EXPECT_EQ(load(parse_quick_options(args)).target.command, words);
}

// --opt=value as the other commands take it, before -- only; run's own flags are passed on to it.
TEST(QuickScenario, OptionEqualsValueBeforeTheCommandOnly) {
    const auto o = parse_quick_options({"--path=/health?x=1", "--connections=5", "--quiet", "--no-color", "--", "srv", "--listen=:{port}"});
    EXPECT_EQ(o.path, "/health?x=1");
    EXPECT_EQ(o.connections, 5);
    EXPECT_EQ(o.command, (std::vector<std::string>{"srv", "--listen=:{port}"}));
    EXPECT_EQ(o.run_arguments, (std::vector<std::string>{"--quiet", "--no-color"}));
    EXPECT_THROW(parse_quick_options({"--connections=x", "--", "srv"}), std::invalid_argument);
}

TEST(QuickScenario, CommandLineErrors) {
    EXPECT_THROW(parse_quick_options({}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--path"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--path", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--port", "0", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--port", "8080x", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--warmup", "10ms", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--grace", "2h", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--exit", "SIGNOPE", "--", "x"}), std::invalid_argument);
    EXPECT_THROW(parse_quick_options({"--slow", "/a b", "--", "x"}), std::invalid_argument);
}

TEST(QuickScenario, PortHintOnlyWhenTheCommandShowsNoPort) {
    EXPECT_NE(quick_port_hint(parse_quick_options({"--", "python3", "-m", "http.server"})), "");
    EXPECT_EQ(quick_port_hint(parse_quick_options({"--", "python3", "-m", "http.server", "{port}"})), "");
    EXPECT_EQ(quick_port_hint(parse_quick_options({"--", "sh", "-c", "exec srv --listen :$PORT"})), "");
    EXPECT_EQ(quick_port_hint(parse_quick_options({"--port", "8000", "--", "python3", "-m", "http.server"})), "");
}

} // namespace
} // namespace lastcall::harness
