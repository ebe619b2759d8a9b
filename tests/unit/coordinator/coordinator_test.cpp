// The coordinator on fake time: every budget and deadline below is exact to the microsecond,
// and the whole file runs in milliseconds because nothing sleeps.
#include "lastcall/coordinator/coordinator.hpp"
#include "lastcall/coordinator/manual_clock.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lastcall::coordinator {
namespace {

using namespace std::chrono_literals;

std::filesystem::path empty_directory(const std::string& name) {
    const auto dir = lastcall::testing::test_root() / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

class CoordinatorTest : public ::testing::Test {
protected:
    CoordinatorTest() {
        config_.budgets = Budgets{.global = 30s, .drain_delay = 0s, .drain = 10s, .stream_grace = 1s,
                                  .tasks = 5s, .task_cancel_grace = 1s, .cleanup = 5s};
    }

    Coordinator& coordinator() {
        if (!coordinator_) {
            coordinator_ = std::make_unique<Coordinator>(clock_, config_);
            coordinator_->set_hooks(CoordinatorHooks{
                .stop_accepting = [this] { events_.push_back("stop_accepting"); },
                .snapshot = [this]() -> std::optional<std::string> { return state_; },
                .exited = [this](const ShutdownReport& report, const std::string&) { report_ = report; },
            });
        }
        return *coordinator_;
    }

    void signal(ShutdownMode mode = ShutdownMode::graceful) {
        coordinator().request_shutdown(mode, SIGTERM);
        clock_.settle();
    }

    std::vector<Phase> phases() const {
        std::vector<Phase> out;
        for (const auto& p : report_->phases) out.push_back(p.phase);
        return out;
    }
    const PhaseRecord& record(Phase phase) const {
        for (const auto& p : report_->phases) {
            if (p.phase == phase) return p;
        }
        throw std::runtime_error("phase not in report");
    }
    // A task that stops when asked, like a well-behaved job.
    TaskTracker::Handle& cooperative_task(std::string name) {
        handles_.push_back(std::make_unique<TaskTracker::Handle>());
        auto* handle = handles_.back().get();
        *handle = coordinator().tasks().start(std::move(name), [this, handle] {
            clock_.poster()([handle] { handle->release(); });
        });
        return *handle;
    }

    ManualClock clock_;
    ShutdownConfig config_;
    std::unique_ptr<Coordinator> coordinator_;
    std::vector<std::string> events_;
    std::optional<std::string> state_ = "state";
    std::optional<ShutdownReport> report_;
    std::vector<std::unique_ptr<TaskTracker::Handle>> handles_;
};

TEST_F(CoordinatorTest, RunsEveryPhaseInOrderAndExitsCleanWhenIdle) {
    EXPECT_TRUE(coordinator().ready());
    signal();
    ASSERT_TRUE(report_);
    EXPECT_EQ(phases(), (std::vector<Phase>{Phase::preparing, Phase::draining, Phase::tasks, Phase::cleaning,
                                            Phase::persisting, Phase::exiting}));
    EXPECT_EQ(report_->exit_code, exit_code::clean);
    EXPECT_EQ(report_->total, 0s);
    EXPECT_EQ(coordinator().phase(), Phase::exited);
    EXPECT_EQ(events_, std::vector<std::string>{"stop_accepting"});
}

// Readiness fails the instant a graceful stop is asked for, on the asking thread, not once the
// coordinator's context has taken the request: the server's runs on a thread of its own, which a
// loaded machine schedules milliseconds later. Until then requests are still accepted.
TEST_F(CoordinatorTest, ReadinessFailsWhenAGracefulStopIsAskedNotWhenTheCoordinatorTakesIt) {
    coordinator().request_shutdown(ShutdownMode::graceful, SIGTERM);
    EXPECT_FALSE(coordinator().ready());
    EXPECT_EQ(coordinator().phase(), Phase::running);  // nothing of the coordinator's has run yet
    EXPECT_TRUE(coordinator().accepts_new_requests());
    clock_.settle();
    EXPECT_FALSE(coordinator().ready());
    ASSERT_TRUE(report_);
}

// A fast stop first asked of a retiring process leaves readiness to the coordinator, which holds it
// while the retire drains (the service goes on elsewhere).
TEST_F(CoordinatorTest, AFastStopAskedOfARetiringProcessDoesNotEndReadinessByItself) {
    auto request = coordinator().drain().track_request();
    coordinator().request_retire(ShutdownMode::graceful, SIGTERM);
    clock_.settle();
    coordinator().request_shutdown(ShutdownMode::fast, SIGQUIT);
    EXPECT_TRUE(coordinator().ready());
}

TEST_F(CoordinatorTest, DrainCompletesTheMomentTheLastRequestEnds) {
    auto request = coordinator().drain().track_request();
    signal();
    EXPECT_FALSE(coordinator().ready());
    EXPECT_TRUE(coordinator().draining());
    clock_.advance(3s);
    EXPECT_FALSE(report_);
    request.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(record(Phase::draining).end, 3s);
    EXPECT_EQ(record(Phase::draining).outcome, PhaseOutcome::completed);
    EXPECT_EQ(report_->counts.in_flight_at_signal, 1u);
    EXPECT_EQ(report_->counts.completed_during_drain, 1u);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, DrainBudgetCutsWhatIsLeftAndExitsIncomplete) {
    config_.budgets.drain = 2s;
    auto request = coordinator().drain().track_request();
    bool closed_all = false;
    auto connection = coordinator().connections().add({nullptr, [&] { closed_all = true; }});
    signal();
    clock_.advance(2s - 1us);
    EXPECT_FALSE(report_);
    clock_.advance(1us);
    ASSERT_TRUE(report_);
    EXPECT_TRUE(closed_all);
    EXPECT_EQ(record(Phase::draining).outcome, PhaseOutcome::timed_out);
    EXPECT_EQ(report_->counts.cut_at_drain_deadline, 1u);
    EXPECT_EQ(report_->exit_code, exit_code::incomplete);
}

TEST_F(CoordinatorTest, GlobalDeadlineBoundsEveryPhase) {
    config_.budgets.global = 3s;  // shorter than the drain budget
    auto request = coordinator().drain().track_request();
    auto task = coordinator().tasks().start("ignores-cancel", [] {});
    signal();
    clock_.advance(3s);
    ASSERT_TRUE(report_);
    EXPECT_EQ(record(Phase::draining).end, 3s);
    EXPECT_EQ(record(Phase::tasks).end, 3s);  // no time left: cancelled and abandoned at once
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"ignores-cancel"});
    EXPECT_EQ(report_->total, 3s);
}

TEST_F(CoordinatorTest, DrainDelayKeepsAcceptingWhileReadinessFails) {
    config_.budgets.drain_delay = 2s;
    signal();
    EXPECT_FALSE(coordinator().ready());
    EXPECT_TRUE(coordinator().accepts_new_requests());
    EXPECT_TRUE(events_.empty());
    clock_.advance(2s - 1us);
    EXPECT_TRUE(events_.empty());
    clock_.advance(1us);
    EXPECT_EQ(events_, std::vector<std::string>{"stop_accepting"});
    ASSERT_TRUE(report_);
    EXPECT_EQ(record(Phase::preparing).end, 2s);
}

TEST_F(CoordinatorTest, EveryConnectionIsToldWhenDrainingStarts) {
    int told = 0;
    auto a = coordinator().connections().add({[&] { ++told; }, nullptr});
    auto b = coordinator().connections().add({[&] { ++told; }, nullptr});
    auto request = coordinator().drain().track_request();
    signal();
    EXPECT_EQ(told, 2);
    EXPECT_FALSE(report_);
}

// With a spread (the server's: its io threads), connections are told in batches where the spread
// runs them, each connection once; draining stays open until every batch has run, though nothing
// is in flight: a connection told late may still hold it for a request on its way.
TEST_F(CoordinatorTest, ASpreadTellsConnectionsInBatchesAndDrainingWaitsForEveryBatch) {
    std::vector<std::function<void()>> batches;
    coordinator().set_connection_spread([&batches](std::function<void()> batch) { batches.push_back(std::move(batch)); });
    constexpr int count = 3 * ConnectionRegistry::draining_batch + 1;
    std::vector<int> told(count, 0);
    std::vector<ConnectionRegistry::Registration> connections;
    for (int i = 0; i < count; ++i) connections.push_back(coordinator().connections().add({[&told, i] { ++told[i]; }, nullptr}));
    signal();
    EXPECT_EQ(batches.size(), 4u);
    EXPECT_EQ(std::count(told.begin(), told.end(), 0), count) << "told only where the spread runs the batches";
    for (auto& batch : batches) {
        EXPECT_FALSE(report_) << "a batch not yet run keeps draining open";
        batch();
        batch = nullptr;  // what a finished post does with it, and its hold
        clock_.settle();
    }
    EXPECT_EQ(std::count(told.begin(), told.end(), 1), count);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->counts.completed_during_drain, 0u);
}

// A connection lingering for a request on its way keeps draining open, but it is not a request:
// the report counts requests and streams, and connections apart (an idle server with one
// keep-alive connection reported completed_during_drain 1 when connections were counted as requests).
TEST_F(CoordinatorTest, HoldsKeepDrainingOpenButAreNotCountedAsRequests) {
    auto request = coordinator().drain().track_request();
    auto held = coordinator().drain().hold();
    auto connection = coordinator().connections().add({nullptr, nullptr});
    signal();
    EXPECT_EQ(coordinator().drain().in_flight(), 1u);
    EXPECT_EQ(coordinator().drain().holds(), 1u);
    request.release();
    clock_.advance(100ms);
    EXPECT_FALSE(report_) << "the hold keeps draining open";
    held.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->counts.in_flight_at_signal, 1u);
    EXPECT_EQ(report_->counts.completed_during_drain, 1u);
    EXPECT_EQ(report_->connections.open_at_signal, 1u);
    EXPECT_EQ(report_->connections.closed_at_drain_end, 1u);
    EXPECT_EQ(record(Phase::draining).end, 100ms);
}

TEST_F(CoordinatorTest, ConnectionCountsReachTheReport) {
    auto before = coordinator().connections().add({nullptr, nullptr});
    auto request = coordinator().drain().track_request();
    signal();
    auto from_backlog = coordinator().connections().add({nullptr, nullptr});
    auto& connections = coordinator().connections();
    connections.note(ConnectionEvent::reset_in_backlog, 3);
    connections.note(ConnectionEvent::accept_failed);
    connections.note(ConnectionEvent::accept_failed);
    connections.note(ConnectionEvent::never_served);
    connections.note(ConnectionEvent::closed_after_linger);
    connections.note(ConnectionEvent::reset_request_unread);
    connections.note_accept_paused(250ms);
    before.release();
    request.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    const auto& n = report_->connections;
    EXPECT_EQ(n.accepted, 2u);
    EXPECT_EQ(n.open_at_signal, 1u);
    EXPECT_EQ(n.accepted_during_drain, 1u);
    EXPECT_EQ(n.closed_at_drain_end, 1u);
    EXPECT_EQ(n.reset_in_backlog, 3u);
    EXPECT_EQ(n.accept_failures, 2u);
    EXPECT_EQ(n.never_served, 1u);
    EXPECT_EQ(n.closed_after_linger, 1u);
    EXPECT_EQ(n.reset_request_unread, 1u);
    EXPECT_EQ(n.accept_paused, 250ms);
    const auto json = to_json(*report_);
    EXPECT_NE(json.find(R"("reset_in_backlog": 3)"), std::string::npos) << json;
}

TEST_F(CoordinatorTest, DrainEndedIsCalledOnceDrainingIsOverBeforeConnectionsClose) {
    config_.budgets.drain = 2s;
    std::vector<std::string> order;
    auto request = coordinator().drain().track_request();
    auto connection = coordinator().connections().add({nullptr, [&] { order.push_back("close_now"); }});
    coordinator();
    auto hooks = CoordinatorHooks{.drain_ended = [&] { order.push_back("drain_ended"); },
                                  .exited = [this](const ShutdownReport& r, const std::string&) { report_ = r; }};
    coordinator().set_hooks(hooks);
    signal();
    clock_.advance(2s);
    ASSERT_TRUE(report_);
    EXPECT_EQ(order, (std::vector<std::string>{"drain_ended", "close_now"}));
}

// A journal fsync failed (never retried): the server stops acknowledging, shuts down gracefully
// and says so with exit code 6, even though the checkpoint itself is written.
TEST_F(CoordinatorTest, DurabilityFailureShutsDownGracefullyWithExitCode6) {
    auto request = coordinator().drain().track_request();
    coordinator().fail_durability("journal: fdatasync failed (not retried) for x: Input/output error");
    clock_.settle();
    EXPECT_FALSE(coordinator().ready());
    EXPECT_EQ(coordinator().phase(), Phase::draining);
    coordinator().fail_durability("a second failure is not news");
    request.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->mode, ShutdownMode::graceful);
    EXPECT_FALSE(report_->escalated);
    EXPECT_EQ(report_->signal, 0);
    EXPECT_EQ(report_->exit_code, exit_code::checkpoint_failed);
    EXPECT_NE(report_->durability_error.find("Input/output error"), std::string::npos);
}

TEST_F(CoordinatorTest, StreamsAreToldToEndAfterStreamGrace) {
    bool told = false;
    auto stream = coordinator().drain().track_stream([&] { told = true; });
    signal();
    clock_.advance(1s - 1us);
    EXPECT_FALSE(told);
    clock_.advance(1us);
    EXPECT_TRUE(told);
    stream.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->counts.streams_ended_by_shutdown, 1u);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, SecondSignalEscalatesToFastButStillCleansAndPersists) {
    auto request = coordinator().drain().track_request();
    bool closed_all = false;
    auto connection = coordinator().connections().add({nullptr, [&] { closed_all = true; }});
    std::vector<std::string> closed;
    coordinator().resources().add_blocking("db", 1s, [&] { closed.push_back("db"); });
    signal();
    clock_.advance(1s);
    EXPECT_FALSE(report_);
    signal();
    ASSERT_TRUE(report_);
    EXPECT_TRUE(closed_all);
    EXPECT_TRUE(report_->escalated);
    EXPECT_EQ(report_->mode, ShutdownMode::fast);
    EXPECT_EQ(record(Phase::draining).outcome, PhaseOutcome::escalated);
    EXPECT_EQ(record(Phase::draining).end, 1s);
    EXPECT_EQ(closed, std::vector<std::string>{"db"});
    EXPECT_EQ(report_->checkpoint.outcome, "none");  // no checkpointer in this fixture
    EXPECT_EQ(record(Phase::persisting).outcome, PhaseOutcome::skipped);
    EXPECT_EQ(report_->exit_code, exit_code::fast);
}

TEST_F(CoordinatorTest, FastSignalDoesNotWaitForInFlightRequests) {
    auto request = coordinator().drain().track_request();
    signal(ShutdownMode::fast);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->total, 0s);
    EXPECT_EQ(report_->counts.cut_at_drain_deadline, 1u);
    EXPECT_EQ(report_->exit_code, exit_code::fast);
}

TEST_F(CoordinatorTest, TaskFinishingInsideItsBudgetCountsAsCompleted) {
    auto& task = cooperative_task("job-1");
    signal();
    clock_.advance(4s);
    EXPECT_FALSE(report_);
    task.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::completed);
    EXPECT_EQ(report_->counts.tasks_completed, 1u);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, CooperativeTaskIsCancelledWhenItsBudgetRunsOut) {
    cooperative_task("job-1");
    signal();
    clock_.advance(5s - 1us);
    EXPECT_FALSE(report_);
    clock_.advance(1us);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->counts.tasks_cancelled, 1u);
    EXPECT_TRUE(report_->abandoned_tasks.empty());
    EXPECT_EQ(record(Phase::tasks).end, 5s);
    // Cancelled as designed, not timed out: a report saying "timed_out" with exit 0 contradicts itself.
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::cancelled);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, StuckTaskIsAbandonedNamedAndShutdownGoesOn) {
    cooperative_task("job-1");
    auto stuck = coordinator().tasks().start("stuck-7", [] { /* ignores the request */ });
    bool db_closed = false;
    coordinator().resources().add_blocking("db", 1s, [&] { db_closed = true; });
    signal();
    clock_.advance(5s);
    EXPECT_FALSE(report_);  // cancel grace running
    clock_.advance(1s);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"stuck-7"});
    EXPECT_EQ(report_->counts.tasks_abandoned, 1u);
    EXPECT_EQ(report_->counts.tasks_cancelled, 1u);
    EXPECT_NE(record(Phase::tasks).detail.find("stuck-7"), std::string::npos);
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::timed_out);
    EXPECT_TRUE(db_closed);
    EXPECT_EQ(report_->exit_code, exit_code::incomplete);
}

// A task that heard the cancellation and is saving its state (a job marking itself resumable
// during a disk stall) is waited for past the cancel grace; one that ignored it beside it is
// still abandoned, once the saving one is done.
TEST_F(CoordinatorTest, TaskSavingItsStateAfterCancellationIsWaitedForPastTheGrace) {
    auto saving = coordinator().tasks().start("job-3", [] { /* stops, then saves for a while */ });
    auto stuck = coordinator().tasks().start("stuck-7", [] { /* ignores the request */ });
    signal();
    clock_.advance(5s);  // the tasks budget: cancellation requested
    coordinator().tasks().acknowledge_stop(saving.id());
    clock_.advance(1s);  // the grace is over, job-3 is still saving
    EXPECT_FALSE(report_);
    clock_.advance(2s);
    EXPECT_FALSE(report_);
    saving.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(record(Phase::tasks).end, 8s);
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"stuck-7"});
    EXPECT_EQ(report_->counts.tasks_cancelled, 1u);
    EXPECT_NE(record(Phase::tasks).detail.find("for 1 task(s) saving their state"), std::string::npos)
        << record(Phase::tasks).detail;
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::timed_out);  // stuck-7
}

TEST_F(CoordinatorTest, SavingTaskThatFinishesPastTheGraceLeavesTasksCancelledNotTimedOut) {
    auto saving = coordinator().tasks().start("job-3", [] {});
    signal();
    clock_.advance(5s);
    coordinator().tasks().acknowledge_stop(saving.id());
    clock_.advance(1500ms);
    EXPECT_FALSE(report_);
    saving.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_TRUE(report_->abandoned_tasks.empty());
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::cancelled);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, SavingTaskIsAbandonedAtTheGlobalDeadline) {
    auto saving = coordinator().tasks().start("job-3", [] {});
    signal();
    clock_.advance(5s);
    coordinator().tasks().acknowledge_stop(saving.id());
    clock_.advance(config_.budgets.global);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"job-3"});
    EXPECT_EQ(report_->exit_code, exit_code::incomplete);
}

// A task inside a commit it cannot interrupt when the cancel comes cannot say it heard it until
// the commit returns; the commit is where it is saving, so it counts as acknowledged at once.
TEST_F(CoordinatorTest, CancelDuringUninterruptibleWorkCountsAsAcknowledged) {
    auto job = coordinator().tasks().start("job-2", [] {});
    coordinator().tasks().set_uninterruptible(job.id(), true);  // a stalled commit, from before the signal
    signal();
    clock_.advance(6500ms);  // past the tasks budget and the grace: still committing
    EXPECT_FALSE(report_);
    coordinator().tasks().set_uninterruptible(job.id(), false);
    job.release();  // saw the cancel after the commit, saved, ended
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_TRUE(report_->abandoned_tasks.empty());
    EXPECT_EQ(record(Phase::tasks).outcome, PhaseOutcome::cancelled);
}

// Out of the uninterruptible work again, a task that then ignores the cancel is abandoned.
TEST_F(CoordinatorTest, UninterruptibleWorkThatEndedBeforeTheCancelExtendsNothing) {
    auto job = coordinator().tasks().start("job-2", [] {});
    coordinator().tasks().set_uninterruptible(job.id(), true);
    coordinator().tasks().set_uninterruptible(job.id(), false);
    signal();
    clock_.advance(6s);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"job-2"});
}

// Acknowledging is for a task that was asked to stop: before that it means nothing.
TEST_F(CoordinatorTest, AcknowledgingBeforeCancellationDoesNotExtendTheGrace) {
    auto task = coordinator().tasks().start("job-3", [] {});
    coordinator().tasks().acknowledge_stop(task.id());
    signal();
    clock_.advance(6s);
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->abandoned_tasks, std::vector<std::string>{"job-3"});
}

TEST_F(CoordinatorTest, ResourcesCloseInReverseOrderOfRegistration) {
    std::vector<std::string> closed;
    for (std::string name : {"database", "files", "log-buffer"}) {
        coordinator().resources().add_blocking(name, 1s, [&closed, name] { closed.push_back(name); });
    }
    signal();
    ASSERT_TRUE(report_);
    EXPECT_EQ(closed, (std::vector<std::string>{"log-buffer", "files", "database"}));
    ASSERT_EQ(report_->resources.size(), 3u);
    EXPECT_EQ(report_->resources[0].name, "log-buffer");
    EXPECT_EQ(report_->resources[0].outcome, "closed");
}

// A resource that closed before its close returned does not wait in the queue: on the server
// that queue held the aborted waits of 10,000 just-closed connections, and each resource's close
// took 10-20 ms. Each close queues work here, as the io threads' backlog; with a post between
// two closes that work ran first.
TEST_F(CoordinatorTest, ABlockingResourceThatClosedGoesOnWithoutWaitingBehindQueuedWork) {
    std::vector<std::string> order;
    for (std::string name : {"database", "files", "journal"}) {
        coordinator().resources().add_blocking(name, 1s, [this, &order, name] {
            order.push_back("close " + name);
            clock_.poster()([&order, name] { order.push_back("queued after " + name); });
        });
    }
    signal();
    ASSERT_TRUE(report_);
    EXPECT_EQ(order, (std::vector<std::string>{"close journal", "close files", "close database", "queued after journal",
                                               "queued after files", "queued after database"}));
    ASSERT_EQ(report_->resources.size(), 3u);
    for (const auto& resource : report_->resources) EXPECT_EQ(resource.outcome, "closed") << resource.name;
}

// One that closes later (from elsewhere, after its close returned) is still waited for.
TEST_F(CoordinatorTest, AResourceThatClosesLaterIsWaitedFor) {
    ResourceRegistry::Done later;
    coordinator().resources().add("flush", 2s, [&later](ResourceRegistry::Done done) { later = std::move(done); });
    signal();
    EXPECT_FALSE(report_);
    ASSERT_TRUE(later);
    clock_.advance(100ms);
    later({});
    clock_.settle();
    ASSERT_TRUE(report_);
    ASSERT_EQ(report_->resources.size(), 1u);
    EXPECT_EQ(report_->resources[0].outcome, "closed");
    EXPECT_EQ(report_->resources[0].took, 100ms);
}

TEST_F(CoordinatorTest, ResourceThatNeverClosesTimesOutAndTheNextOneStillCloses) {
    bool database_closed = false;
    coordinator().resources().add_blocking("database", 1s, [&] { database_closed = true; });
    coordinator().resources().add("hangs", 2s, [](ResourceRegistry::Done) { /* never calls done */ });
    coordinator().resources().add("fails", 1s, [](ResourceRegistry::Done done) { done("disk full"); });
    signal();
    EXPECT_FALSE(report_);
    clock_.advance(2s);
    ASSERT_TRUE(report_);
    ASSERT_EQ(report_->resources.size(), 3u);
    EXPECT_EQ(report_->resources[0].outcome, "failed");
    EXPECT_EQ(report_->resources[0].error, "disk full");
    EXPECT_EQ(report_->resources[1].outcome, "timed_out");
    EXPECT_EQ(report_->resources[1].took, 2s);
    EXPECT_TRUE(database_closed);
    EXPECT_EQ(report_->exit_code, exit_code::incomplete);
}

TEST_F(CoordinatorTest, CheckpointHoldsStateAcknowledgedDuringDrain) {
    const auto dir = empty_directory("coordinator-checkpoint");
    Checkpointer checkpointer(dir / "state");
    config_.report_path = dir / "report.json";
    coordinator().set_checkpointer(&checkpointer);
    state_ = "before";
    auto request = coordinator().drain().track_request();
    signal();
    clock_.advance(1s);
    state_ = "acknowledged during drain";
    request.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->checkpoint.outcome, "written");
    EXPECT_EQ(Checkpointer(dir / "state").load(Checkpointer::Fallback::refuse)->payload, "acknowledged during drain");
    EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
}

// A write-ahead journal may be compacted only once the checkpoint that covers it is durable.
TEST_F(CoordinatorTest, CheckpointedHookRunsAfterTheCheckpointIsWritten) {
    const auto dir = empty_directory("coordinator-checkpointed");
    Checkpointer checkpointer(dir / "state");
    coordinator().set_checkpointer(&checkpointer);
    std::optional<std::uint64_t> generation;
    bool on_disk = false;
    coordinator().set_hooks(CoordinatorHooks{
        .snapshot = [] { return std::optional<std::string>("state"); },
        .checkpointed =
            [&](std::uint64_t g) {
                generation = g;
                on_disk = std::filesystem::exists(dir / "state");
            },
        .exited = [this](const ShutdownReport& r, const std::string&) { report_ = r; },
    });
    signal();
    ASSERT_TRUE(report_);
    EXPECT_EQ(generation, 1u);
    EXPECT_TRUE(on_disk);
}

// A persisting phase that took seconds (a stalled disk, a slow compaction) names the step.
TEST_F(CoordinatorTest, PersistingTimesNameTheStepThatTookThem) {
    const auto dir = empty_directory("coordinator-persisting-times");
    Checkpointer checkpointer(dir / "state");
    coordinator().set_checkpointer(&checkpointer);
    coordinator().set_hooks(CoordinatorHooks{
        .snapshot =
            [this] {
                clock_.advance(5ms);
                return std::optional<std::string>("state");
            },
        .checkpointed = [this](std::uint64_t) { clock_.advance(3s); },
        .exited = [this](const ShutdownReport& r, const std::string&) { report_ = r; },
    });
    signal();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->checkpoint.snapshot_took, 5ms);
    EXPECT_EQ(report_->checkpoint.write_took, 0ms);  // the manual clock stood still while writing
    EXPECT_EQ(report_->checkpoint.after_write_took, 3s);
    const auto json = nlohmann::json::parse(to_json(*report_));
    EXPECT_EQ(json["checkpoint"]["snapshot_ms"], 5.0);
    EXPECT_EQ(json["checkpoint"]["after_write_ms"], 3000.0);
    EXPECT_GE(json["checkpoint"]["fsync_ms"].get<double>(), 0.0);
}

// A prefork worker retired by a reload: the service goes on in the new generation, so readiness
// holds and requests on its open connections are still served (with Connection: close) while it
// drains; no drain_delay.
TEST_F(CoordinatorTest, RetireHoldsReadinessAndServesWhileDraining) {
    config_.budgets.drain_delay = 5s;
    auto request = coordinator().drain().track_request();
    coordinator().request_retire(ShutdownMode::graceful, SIGTERM);
    clock_.settle();
    EXPECT_EQ(coordinator().phase(), Phase::draining);  // at once: no drain_delay
    EXPECT_TRUE(coordinator().retiring());
    EXPECT_TRUE(coordinator().ready());
    EXPECT_TRUE(coordinator().accepts_new_requests());
    EXPECT_TRUE(coordinator().draining());  // responses carry Connection: close
    EXPECT_EQ(events_, std::vector<std::string>{"stop_accepting"});
    request.release();
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->intent, ShutdownIntent::retire);
    EXPECT_EQ(report_->mode, ShutdownMode::graceful);
    EXPECT_EQ(report_->exit_code, exit_code::clean);
}

TEST_F(CoordinatorTest, StopDuringARetireFlipsReadinessWithoutEscalatingThenEscalatesOnTheNext) {
    auto request = coordinator().drain().track_request();
    coordinator().request_retire(ShutdownMode::graceful, SIGTERM);
    clock_.settle();
    coordinator().request_shutdown(ShutdownMode::graceful, SIGTERM);  // the service stops too
    clock_.settle();
    EXPECT_FALSE(coordinator().ready());
    EXPECT_FALSE(coordinator().accepts_new_requests());
    EXPECT_EQ(coordinator().phase(), Phase::draining);  // still waiting for the request
    coordinator().request_shutdown(ShutdownMode::graceful, SIGTERM);
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->intent, ShutdownIntent::stop);
    EXPECT_TRUE(report_->escalated);
    EXPECT_EQ(nlohmann::json::parse(to_json(*report_))["intent"], "stop");
}

TEST_F(CoordinatorTest, SignalsFollowTheConfiguredPolicy) {
    config_.signals = SignalPolicy{{SIGQUIT}, {SIGTERM}};  // nginx's mapping
    EXPECT_FALSE(coordinator().handle_signal(SIGUSR1));
    EXPECT_TRUE(coordinator().handle_signal(SIGTERM));
    clock_.settle();
    ASSERT_TRUE(report_);
    EXPECT_EQ(report_->mode, ShutdownMode::fast);
}

} // namespace
} // namespace lastcall::coordinator
