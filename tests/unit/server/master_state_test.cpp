// The master's policy on fake time: what it forwards, kills, replaces and reloads, and its exit
// code. The shell that spawns and reaps real processes is tested apart.
#include "master_state.hpp"

#include "lastcall/coordinator/manual_clock.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::server {
namespace {

using namespace std::chrono_literals;
using coordinator::ManualClock;

// Records what the master asked for, one line each, and hands out pids.
class RecordedActions : public MasterActions {
public:
    std::vector<std::string> log;
    std::vector<WorkerId> spawned;
    std::optional<int> exit_code;
    int listener_closes = 0;

    void spawn(const WorkerId& id) override {
        spawned.push_back(id);
        log.push_back("spawn " + id.text());
    }
    void stop(pid_t pid, int signal) override { log.push_back(fmt::format("stop {} {}", pid, signal)); }
    void retire(pid_t pid) override { log.push_back(fmt::format("retire {}", pid)); }
    void kill(pid_t pid) override { log.push_back(fmt::format("kill {}", pid)); }
    void close_listener() override {
        ++listener_closes;
        log.push_back("close_listener");
    }
    void open_listener() override { log.push_back("open_listener"); }
    void all_ready() override { log.push_back("all_ready"); }
    void hand_over_jobs(pid_t to, const std::optional<WorkerId>& from) override {
        log.push_back(fmt::format("hand_over {} {}", to, from ? from->text() : "*"));
    }
    void exit(int code) override {
        exit_code = code;
        log.push_back(fmt::format("exit {}", code));
    }
    bool asked(const std::string& line) const { return std::find(log.begin(), log.end(), line) != log.end(); }
};

class MasterStateTest : public ::testing::Test {
protected:
    MasterStateTest() {
        config_.workers = 2;
        config_.graceful_signals = {SIGTERM, SIGINT};
        config_.fast_signals = {SIGQUIT};
        config_.graceful_timeout = 5s;
        config_.boot_timeout = 2s;
    }
    MasterState& master() {
        if (!master_) master_ = std::make_unique<MasterState>(clock_, config_, actions_);
        return *master_;
    }
    // Starts the master and gives each worker spawned so far a pid (100, 101, ...) and readiness.
    void start_serving() {
        master().start();
        spawn_and_ready_all();
    }
    void spawn_and_ready_all() {
        for (; given_ < actions_.spawned.size(); ++given_) {
            master().on_spawned(actions_.spawned[given_], next_pid_);
            master().on_ready(next_pid_++);
        }
    }
    static WorkerExit exited(int code) { return WorkerExit{true, code, 0}; }
    static WorkerExit killed(int signal) { return WorkerExit{false, 0, signal}; }

    ManualClock clock_;
    MasterConfig config_;
    RecordedActions actions_;
    std::unique_ptr<MasterState> master_;
    std::size_t given_ = 0;
    pid_t next_pid_ = 100;
};

TEST_F(MasterStateTest, StartsItsWorkersAndAnnouncesOnceAllAreReady) {
    master().start();
    ASSERT_EQ(actions_.spawned.size(), 2u);
    master().on_spawned(actions_.spawned[0], 100);
    master().on_spawned(actions_.spawned[1], 101);
    master().on_ready(100);
    EXPECT_FALSE(actions_.asked("all_ready"));
    master().on_ready(101);
    EXPECT_TRUE(actions_.asked("all_ready"));
    EXPECT_EQ(master().stage(), MasterStage::running);
}

TEST_F(MasterStateTest, AWorkerThatNeverGetsReadyStopsTheStartWithExit3) {
    master().start();
    master().on_spawned(actions_.spawned[0], 100);
    master().on_spawned(actions_.spawned[1], 101);
    master().on_ready(100);
    clock_.advance(2s);
    EXPECT_TRUE(actions_.asked("kill 100"));
    EXPECT_TRUE(actions_.asked("kill 101"));
    master().on_exit(100, killed(SIGKILL));
    EXPECT_FALSE(actions_.exit_code);  // not before every worker has ended
    master().on_exit(101, killed(SIGKILL));
    EXPECT_EQ(actions_.exit_code, 3);
}

// The first ready worker serves on the shared listener while the others boot: its death then is a
// crash to replace, not a failed start (exit 3); the start completes when every slot is ready.
TEST_F(MasterStateTest, AReadyWorkerThatDiesWhileOthersBootIsReplacedAndTheStartGoesOn) {
    master().start();
    master().on_spawned(actions_.spawned[0], 100);
    master().on_spawned(actions_.spawned[1], 101);
    master().on_ready(100);
    master().on_exit(100, killed(SIGKILL));
    EXPECT_FALSE(actions_.exit_code);
    EXPECT_FALSE(actions_.asked("kill 101"));
    ASSERT_EQ(actions_.spawned.size(), 3u);
    EXPECT_EQ(actions_.spawned[2].text(), "1.1#2");
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::crashed);
    master().on_ready(101);
    EXPECT_FALSE(actions_.asked("all_ready"));  // slot 1's replacement is not ready yet
    master().on_spawned(actions_.spawned[2], 102);
    master().on_ready(102);
    EXPECT_TRUE(actions_.asked("all_ready"));
    EXPECT_EQ(master().stage(), MasterStage::running);
    EXPECT_TRUE(actions_.asked("hand_over 102 1.1"));  // its jobs, once the service serves
    EXPECT_TRUE(actions_.asked("hand_over 102 *"));
}

TEST_F(MasterStateTest, GracefulSignalGoesToEveryWorkerAndCleanExitsMakeExit0) {
    start_serving();
    master().on_signal(SIGTERM);
    EXPECT_TRUE(actions_.asked(fmt::format("stop 100 {}", SIGTERM)));
    EXPECT_TRUE(actions_.asked(fmt::format("stop 101 {}", SIGTERM)));
    master().on_exit(100, exited(0));
    master().on_exit(101, exited(4));  // a budget ran out in one worker
    EXPECT_EQ(actions_.exit_code, 4);
    EXPECT_EQ(actions_.listener_closes, 1);
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::drained);
    EXPECT_EQ(master().workers()[1].ended_while, EndedWhile::stopping);
}

TEST_F(MasterStateTest, SecondGracefulSignalEscalatesWithTheFastSignal) {
    start_serving();
    master().on_signal(SIGTERM);
    master().on_signal(SIGTERM);
    EXPECT_TRUE(actions_.asked(fmt::format("stop 100 {}", SIGQUIT)));
    EXPECT_TRUE(master().fast());
    master().on_exit(100, exited(5));
    master().on_exit(101, exited(5));
    EXPECT_EQ(actions_.exit_code, 5);
}

TEST_F(MasterStateTest, StragglersAreKilledAtTheGracefulTimeoutAndNamed) {
    start_serving();
    master().on_signal(SIGTERM);
    master().on_exit(100, exited(0));
    clock_.advance(4999ms);
    EXPECT_FALSE(actions_.asked("kill 101"));
    clock_.advance(1ms);
    EXPECT_TRUE(actions_.asked("kill 101"));
    master().on_exit(101, killed(SIGKILL));
    EXPECT_EQ(actions_.exit_code, 7);
    EXPECT_EQ(master().stragglers(), std::vector<std::string>{"1.2 (pid 101)"});
    EXPECT_EQ(master().workers()[1].fate, WorkerFate::killed);
}

TEST_F(MasterStateTest, WithNoKillEscalationStragglersAreNeverKilled) {
    config_.no_kill_escalation = true;
    start_serving();
    master().on_signal(SIGTERM);
    clock_.advance(60s);
    EXPECT_FALSE(actions_.asked("kill 100"));
    EXPECT_FALSE(actions_.exit_code);
}

TEST_F(MasterStateTest, WithNoForwardWorkersHearNothingUntilKilledAtTheTimeout) {
    config_.no_forward = true;
    start_serving();
    master().on_signal(SIGTERM);
    EXPECT_FALSE(actions_.asked(fmt::format("stop 100 {}", SIGTERM)));
    clock_.advance(5s);
    EXPECT_TRUE(actions_.asked("kill 100"));
    master().on_exit(100, killed(SIGKILL));
    master().on_exit(101, killed(SIGKILL));
    EXPECT_EQ(actions_.exit_code, 7);
}

TEST_F(MasterStateTest, AWorkerThatDiesWhileRunningIsReplacedWithBackoff) {
    start_serving();
    master().on_exit(100, killed(SIGSEGV));
    ASSERT_EQ(actions_.spawned.size(), 3u);  // at once the first time
    EXPECT_EQ(actions_.spawned[2].text(), "1.1#2");
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::crashed);
    master().on_spawned(actions_.spawned[2], 102);
    master().on_exit(102, exited(1));  // dies again before it is ready
    EXPECT_EQ(actions_.spawned.size(), 3u);
    clock_.advance(99ms);
    EXPECT_EQ(actions_.spawned.size(), 3u);
    clock_.advance(1ms);
    ASSERT_EQ(actions_.spawned.size(), 4u);
    EXPECT_EQ(actions_.spawned[3].text(), "1.1#3");
}

TEST_F(MasterStateTest, AWorkerThatDiesWhileStoppingIsNotReplacedAndCountsAsLost) {
    start_serving();
    master().on_signal(SIGTERM);
    master().on_exit(100, killed(SIGSEGV));
    master().on_exit(101, exited(0));
    EXPECT_EQ(actions_.spawned.size(), 2u);
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::crashed);
    EXPECT_EQ(actions_.exit_code, 7);
}

TEST_F(MasterStateTest, LostDurabilityOutranksEverything) {
    start_serving();
    master().on_signal(SIGTERM);
    master().on_exit(100, exited(6));
    master().on_exit(101, killed(SIGSEGV));
    EXPECT_EQ(actions_.exit_code, 6);
}

// Exit 6 while running: the worker's counter failed (journal, or the database all workers share)
// and is never retried. A replacement on that database would retry it; the service stops instead.
TEST_F(MasterStateTest, AWorkerThatLostDurabilityWhileRunningStopsTheServiceWithExit6) {
    start_serving();
    master().on_exit(100, exited(6));
    EXPECT_EQ(actions_.spawned.size(), 2u) << "replaced";
    EXPECT_EQ(master().stage(), MasterStage::stopping);
    EXPECT_TRUE(actions_.asked(fmt::format("stop 101 {}", SIGTERM)));
    EXPECT_FALSE(master().shutdown_signal()) << "no signal asked for this shutdown";
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::drained);
    master().on_exit(101, exited(0));
    EXPECT_EQ(actions_.exit_code, 6);
}

// Jobs resume exactly once: each ended worker's jobs go to one serving worker, the jobs of an
// earlier run to one worker of the first generation, and none while stopping (they stay resumable).
TEST_F(MasterStateTest, JobsAreHandedOverToOneServingWorker) {
    start_serving();
    EXPECT_EQ(std::count_if(actions_.log.begin(), actions_.log.end(), [](const std::string& l) { return l.rfind("hand_over", 0) == 0; }), 1);
    EXPECT_TRUE(actions_.asked("hand_over 101 *"));
    master().on_exit(100, killed(SIGKILL));
    EXPECT_TRUE(actions_.asked("hand_over 101 1.1"));
    master().on_exit(101, killed(SIGKILL));  // nobody serves now: kept for the first replacement ready
    EXPECT_FALSE(actions_.asked("hand_over 102 1.2"));
    spawn_and_ready_all();
    EXPECT_TRUE(actions_.asked("hand_over 102 1.2"));
    // 1.2 died perhaps before it claimed what it was handed: handed on again (a second claim takes nothing).
    EXPECT_TRUE(actions_.asked("hand_over 102 1.1"));
    EXPECT_TRUE(actions_.asked("hand_over 102 *"));
    EXPECT_FALSE(actions_.asked("hand_over 103 1.2"));
    master().on_signal(SIGTERM);
    master().on_exit(102, exited(0));
    EXPECT_FALSE(actions_.asked("hand_over 103 1.1#2"));
}

TEST_F(MasterStateTest, ReloadStartsTheNewGenerationAndRetiresTheOldOnlyOnceItIsReady) {
    start_serving();
    master().on_signal(SIGHUP);
    ASSERT_EQ(actions_.spawned.size(), 4u);
    EXPECT_EQ(actions_.spawned[2].text(), "2.1");
    master().on_spawned(actions_.spawned[2], 102);
    master().on_spawned(actions_.spawned[3], 103);
    master().on_ready(102);
    EXPECT_FALSE(actions_.asked("retire 100"));
    master().on_ready(103);
    EXPECT_TRUE(actions_.asked("retire 100"));
    EXPECT_TRUE(actions_.asked("retire 101"));
    EXPECT_EQ(master().stage(), MasterStage::running);
    master().on_exit(100, exited(0));
    master().on_exit(101, exited(0));
    EXPECT_EQ(actions_.spawned.size(), 4u);  // retired, not replaced
    EXPECT_EQ(master().workers()[0].fate, WorkerFate::drained);
    EXPECT_EQ(master().workers()[0].ended_while, EndedWhile::reloading);
    ASSERT_EQ(master().reloads().size(), 1u);
    EXPECT_EQ(master().reloads()[0].outcome, ReloadOutcome::completed);
}

TEST_F(MasterStateTest, ANewWorkerThatDiesAbortsTheReloadAndTheOldGenerationServesOn) {
    start_serving();
    master().on_signal(SIGHUP);
    master().on_spawned(actions_.spawned[2], 102);
    master().on_spawned(actions_.spawned[3], 103);
    master().on_exit(102, exited(3));
    EXPECT_TRUE(actions_.asked("kill 103"));
    EXPECT_FALSE(actions_.asked("retire 100"));
    EXPECT_EQ(master().reloads()[0].outcome, ReloadOutcome::aborted);
    master().on_exit(103, killed(SIGKILL));
    EXPECT_EQ(actions_.spawned.size(), 4u);  // the aborted generation is not replaced
    EXPECT_EQ(master().workers()[3].fate, WorkerFate::killed);
    EXPECT_TRUE(master().stragglers().empty());
    master().on_signal(SIGTERM);
    EXPECT_TRUE(actions_.asked(fmt::format("stop 100 {}", SIGTERM)));
}

TEST_F(MasterStateTest, AReloadAskedForDuringAReloadRunsAfterIt) {
    start_serving();
    master().on_signal(SIGHUP);
    master().on_signal(SIGHUP);
    master().on_signal(SIGHUP);
    EXPECT_EQ(actions_.spawned.size(), 4u);
    spawn_and_ready_all();  // generation 2 ready: generation 3 starts
    ASSERT_EQ(actions_.spawned.size(), 6u);
    EXPECT_EQ(actions_.spawned[4].text(), "3.1");
    spawn_and_ready_all();
    EXPECT_EQ(actions_.spawned.size(), 6u);  // the third HUP was folded into the second
    EXPECT_EQ(master().reloads().size(), 2u);
}

TEST_F(MasterStateTest, WithReloadGapTheOldGenerationStopsBeforeTheNewOneStarts) {
    config_.reload_gap = true;
    start_serving();
    master().on_signal(SIGHUP);
    EXPECT_TRUE(actions_.asked("close_listener"));
    EXPECT_TRUE(actions_.asked(fmt::format("stop 100 {}", SIGTERM)));
    EXPECT_EQ(actions_.spawned.size(), 2u);
    master().on_exit(100, exited(0));
    master().on_exit(101, exited(0));
    EXPECT_TRUE(actions_.asked("open_listener"));
    EXPECT_EQ(actions_.spawned.size(), 4u);
}

TEST_F(MasterStateTest, ShutdownDuringAReloadStopsBothGenerations) {
    start_serving();
    master().on_signal(SIGHUP);
    master().on_spawned(actions_.spawned[2], 102);
    master().on_spawned(actions_.spawned[3], 103);
    master().on_signal(SIGTERM);
    for (pid_t pid : {100, 101, 102, 103}) EXPECT_TRUE(actions_.asked(fmt::format("stop {} {}", pid, SIGTERM))) << pid;
    master().on_signal(SIGHUP);  // ignored while stopping
    EXPECT_EQ(actions_.spawned.size(), 4u);
    for (pid_t pid : {100, 101, 102, 103}) master().on_exit(pid, exited(0));
    EXPECT_EQ(actions_.exit_code, 0);
}

} // namespace
} // namespace lastcall::server
