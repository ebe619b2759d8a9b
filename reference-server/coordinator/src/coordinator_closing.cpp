// The coordinator's closing phases: cleaning (resources in reverse order of registration, each
// with its timeout), persisting (the checkpoint) and exiting (counts, exit code, report). The
// phases up to tasks are in coordinator.cpp.
#include "lastcall/coordinator/coordinator.hpp"

#include "saturating_time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::coordinator {

void Coordinator::start_cleaning() {
    enter(Phase::cleaning);
    closing_ = resources_.in_close_order();
    cleanup_deadline_ = deadline_after(config_.budgets.cleanup);
    close_resource(0);
}

void Coordinator::close_resource(std::size_t index) {
    const bool out_of_time = clock_.now() >= cleanup_deadline_ && index < closing_.size();
    if (index == closing_.size() || out_of_time) {
        for (auto i = index; i < closing_.size(); ++i) {
            report_.resources.push_back(ResourceRecord{closing_[i].name, "not_reached", {}, "cleanup budget spent"});
        }
        const bool clean = std::all_of(report_.resources.begin(), report_.resources.end(),
                                       [](const ResourceRecord& r) { return r.outcome == "closed"; });
        if (!clean) incomplete_ = true;
        leave(out_of_time ? PhaseOutcome::timed_out : clean ? PhaseOutcome::completed : PhaseOutcome::failed);
        closing_.clear();
        start_persisting();
        return;
    }
    const auto& resource = closing_[index];
    const auto started = clock_.now();
    auto error = std::make_shared<std::string>();
    wait(
        [&resource, error](auto done) {
            resource.close([error, done = std::move(done)](std::string e) {
                *error = std::move(e);
                done();
            });
        },
        std::min(saturating_add(started, resource.timeout), cleanup_deadline_),
        [this, index, started, error](WaitResult result) {
            const auto& r = closing_[index];
            ResourceRecord record{r.name, "closed", clock_.now() - started, {}};
            if (result == WaitResult::timed_out) {
                record.outcome = "timed_out";
            } else if (!error->empty()) {
                record.outcome = "failed";
                record.error = *error;
            } else if (record.took > r.timeout) {
                record.outcome = "timed_out";  // a blocking close that returned late
            }
            report_.resources.push_back(std::move(record));
            close_resource(index + 1);
        });
}

void Coordinator::start_persisting() {
    // Not bounded by the global deadline: one local write is cheap, losing acknowledged state is not.
    enter(Phase::persisting);
    auto& record = report_.checkpoint;
    std::optional<std::string> state;
    auto started = clock_.now();
    if (checkpointer_ && hooks_.snapshot) state = hooks_.snapshot();
    record.snapshot_took = clock_.now() - started;
    if (!state) {
        leave(PhaseOutcome::skipped, "nothing to persist");
        start_exiting();
        return;
    }
    record.path = checkpointer_->file().string();
    try {
        started = clock_.now();
        const auto written = checkpointer_->write(*state);
        record.write_took = clock_.now() - started;
        record.fsync_took = written.syncing;
        record.outcome = "written";
        record.bytes = written.bytes;
        record.generation = written.generation;
        started = clock_.now();
        if (hooks_.checkpointed) hooks_.checkpointed(written.generation);
        record.after_write_took = clock_.now() - started;
        leave(PhaseOutcome::completed);
    } catch (const CheckpointError& e) {
        record.write_took = clock_.now() - started;
        record.outcome = "failed";
        record.error = e.what();
        checkpoint_failed_ = true;
        leave(PhaseOutcome::failed, e.what());
    }
    start_exiting();
}

int Coordinator::compute_exit_code() const {
    if (checkpoint_failed_) return exit_code::checkpoint_failed;
    if (fast()) return exit_code::fast;
    if (incomplete_) return exit_code::incomplete;
    return exit_code::clean;
}

void Coordinator::start_exiting() {
    enter(Phase::exiting);
    auto& counts = report_.counts;
    counts.completed_during_drain = drain_.completed_during_drain();
    counts.rejected_during_drain = rejected_.load();
    counts.streams_ended_by_shutdown = drain_.streams_told_to_end();
    const auto task_counts = tasks_.counts();
    counts.tasks_completed = task_counts.completed;
    counts.tasks_cancelled = task_counts.cancelled;
    counts.tasks_abandoned = task_counts.abandoned;
    auto& connections = report_.connections;
    connections.accepted = connections_.accepted();
    connections.accepted_during_drain = connections.accepted - accepted_at_drain_start_;
    connections.closed_after_linger = connections_.noted(ConnectionEvent::closed_after_linger);
    connections.never_served = connections_.noted(ConnectionEvent::never_served);
    connections.reset_request_unread = connections_.noted(ConnectionEvent::reset_request_unread);
    connections.reset_in_backlog = connections_.noted(ConnectionEvent::reset_in_backlog);
    connections.accept_failures = connections_.noted(ConnectionEvent::accept_failed);
    connections.accept_paused = connections_.accept_paused();
    report_.exit_code = compute_exit_code();
    leave(PhaseOutcome::completed);
    report_.total = clock_.now() - signal_time_;

    std::string report_error;
    if (!config_.report_path.empty()) {
        try {
            write_report_file(config_.report_path, report_);
        } catch (const std::exception& e) {
            report_error = e.what();
        }
    }
    phase_.store(Phase::exited, std::memory_order_release);
    if (hooks_.exited) hooks_.exited(report_, report_error);
}

} // namespace lastcall::coordinator
