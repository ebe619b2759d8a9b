// Signal targets (`to: master | workers | "worker N" | "child N"`) and purposes: the loader's
// reading with file:line:column errors, and the routing over a fake child lister.
#include "scenario_error_of.hpp"
#include "scenario_loader.hpp"
#include "signal_router.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace lastcall::harness {
namespace {

using testing::error_of;
using testing::minimal_head;

// A master (pid 100) whose first worker got a larger pid than the one started after it.
std::vector<ChildInfo> two_workers(pid_t parent) {
    if (parent != 100) return {};
    return {{305, 9000}, {210, 9100}};  // 305 started first (fewer ticks since boot)
}
std::vector<ChildInfo> none(pid_t) { return {}; }

SignalAction to(SignalTarget target, int index = 0) { return SignalAction{SIGTERM, target, index}; }

TEST(SignalRouter, MasterIsTheMainProcessAndGroupItsGroup) {
    const auto main = route(to(SignalTarget::main), 100, two_workers);
    EXPECT_EQ(main.pids, std::vector<pid_t>{100});
    EXPECT_EQ(main.to, "target");
    EXPECT_FALSE(main.group);
    const auto group = route(to(SignalTarget::group), 100, two_workers);
    EXPECT_TRUE(group.group);
    EXPECT_TRUE(group.pids.empty());
    EXPECT_EQ(group.error, "");
}

TEST(SignalRouter, WorkerNIsTheNthChildByStartTimeNotByPid) {
    const auto first = route(to(SignalTarget::worker, 1), 100, two_workers);
    EXPECT_EQ(first.pids, std::vector<pid_t>{305});
    EXPECT_EQ(first.to, "worker 1 (pid 305)");
    EXPECT_EQ(route(to(SignalTarget::worker, 2), 100, two_workers).pids, std::vector<pid_t>{210});
    // child N keeps its meaning: pid order.
    EXPECT_EQ(route(to(SignalTarget::child, 1), 100, two_workers).pids, std::vector<pid_t>{210});
}

TEST(SignalRouter, WorkersStartedInOneTickKeepPidOrder) {
    const auto same_tick = [](pid_t) { return std::vector<ChildInfo>{{42, 500}, {41, 500}}; };
    EXPECT_EQ(route(to(SignalTarget::worker, 1), 100, same_tick).pids, std::vector<pid_t>{41});
}

TEST(SignalRouter, WorkersIsEveryCurrentChild) {
    const auto all = route(to(SignalTarget::workers), 100, two_workers);
    EXPECT_EQ(all.pids, (std::vector<pid_t>{210, 305}));
    EXPECT_EQ(all.to, "workers (pids 210, 305)");
}

TEST(SignalRouter, AMissingWorkerIsAnErrorThatCountsTheChildren) {
    const auto third = route(to(SignalTarget::worker, 3), 100, two_workers);
    EXPECT_TRUE(third.pids.empty());
    EXPECT_EQ(third.to, "worker 3");
    EXPECT_EQ(third.error, "the target (pid 100) has 2 children");
    const auto workers = route(to(SignalTarget::workers), 100, none);
    EXPECT_TRUE(workers.pids.empty());
    EXPECT_EQ(workers.error, "the target (pid 100) has 0 children");
}

TEST(SignalRouter, OnlyShutdownSignalsToTheMainProcessOrGroupMarkTheRun) {
    EXPECT_TRUE(is_shutdown_signal(SignalPurpose::shutdown, SignalTarget::main));
    EXPECT_TRUE(is_shutdown_signal(SignalPurpose::shutdown, SignalTarget::group));
    EXPECT_FALSE(is_shutdown_signal(SignalPurpose::reload, SignalTarget::main));
    EXPECT_FALSE(is_shutdown_signal(SignalPurpose::shutdown, SignalTarget::worker));
    EXPECT_FALSE(is_shutdown_signal(SignalPurpose::shutdown, SignalTarget::workers));
    EXPECT_EQ(default_purpose(SIGTERM, SignalTarget::main), SignalPurpose::shutdown);
    EXPECT_EQ(default_purpose(SIGSTOP, SignalTarget::main), SignalPurpose::pause);
    EXPECT_EQ(default_purpose(SIGKILL, SignalTarget::worker), SignalPurpose::process);
    EXPECT_EQ(default_purpose(SIGTERM, SignalTarget::child), SignalPurpose::process);
}

std::string with_signal(const std::string& lines) { return minimal_head + "timeline:\n  - at: 1s\n    signal: TERM\n" + lines; }

SignalAction first_signal(const std::string& text) {
    const auto s = load_scenario_text(text, "s.yaml");
    return std::get<SignalAction>(s.timeline.at(0).action);
}

TEST(SignalTargetsInScenarios, MasterWorkersAndWorkerNAreRead) {
    EXPECT_EQ(first_signal(with_signal("    to: master\n")).to, SignalTarget::main);
    EXPECT_EQ(first_signal(with_signal("    to: workers\n")).to, SignalTarget::workers);
    const auto worker = first_signal(with_signal("    to: worker 2\n"));
    EXPECT_EQ(worker.to, SignalTarget::worker);
    EXPECT_EQ(worker.child_index, 2);
    EXPECT_EQ(worker.purpose, SignalPurpose::process);
    EXPECT_EQ(first_signal(with_signal("")).purpose, SignalPurpose::shutdown);
}

TEST(SignalTargetsInScenarios, PurposeIsReadAndCheckedAtItsPosition) {
    EXPECT_EQ(first_signal(with_signal("    purpose: reload\n")).purpose, SignalPurpose::reload);
    EXPECT_EQ(first_signal(with_signal("    to: workers\n    purpose: shutdown\n")).purpose, SignalPurpose::shutdown);
    EXPECT_EQ(error_of(with_signal("    purpose: restart\n")), "6:14: unknown purpose 'restart' (expected shutdown, reload, pause or process)");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    stop_load: all\n    purpose: reload\n"), "6:14: 'purpose' goes with 'signal'");
}

TEST(SignalTargetsInScenarios, BadTargetsSayWhatIsExpected) {
    EXPECT_EQ(error_of(with_signal("    to: worker 0\n")), "6:9: 'worker N' takes N from 1 to 4096");
    EXPECT_EQ(error_of(with_signal("    to: worker x\n")),
              "6:9: unknown signal target 'worker x' (expected target, master, group, workers, 'child N' or 'worker N')");
    EXPECT_EQ(error_of(with_signal("    to: all workers\n")),
              "6:9: unknown signal target 'all workers' (expected target, master, group, workers, 'child N' or 'worker N')");
}

} // namespace
} // namespace lastcall::harness
