#include "lastcall/coordinator/coordinator.hpp"

#include "saturating_time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace lastcall::coordinator {

namespace {

PhaseOutcome outcome_of_wait(bool completed, bool escalated) {
    if (escalated) return PhaseOutcome::escalated;
    return completed ? PhaseOutcome::completed : PhaseOutcome::timed_out;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

} // namespace

// The wait being subscribed to on this thread, if any: a completion called from inside subscribe
// on this same thread is claimed by it instead of posted. Thread-local, so a completion arriving
// meanwhile from another thread (the last request ending on an io thread) is posted as before.
class Coordinator::Subscribing {
public:
    Subscribing(const Coordinator* coordinator, std::uint64_t generation, bool* done)
        : coordinator_(coordinator), generation_(generation), done_(done), outer_(current_) {
        current_ = this;
    }
    ~Subscribing() { current_ = outer_; }
    Subscribing(const Subscribing&) = delete;
    Subscribing& operator=(const Subscribing&) = delete;

    static bool claim(const Coordinator* coordinator, std::uint64_t generation) {
        const auto* s = current_;
        if (!s || s->coordinator_ != coordinator || s->generation_ != generation) return false;
        *s->done_ = true;
        return true;
    }

private:
    const Coordinator* coordinator_;
    std::uint64_t generation_;
    bool* done_;
    Subscribing* outer_;
    static thread_local Subscribing* current_;
};

thread_local Coordinator::Subscribing* Coordinator::Subscribing::current_ = nullptr;

Coordinator::Coordinator(Clock& clock, ShutdownConfig config)
    : clock_(clock),
      post_(clock.poster()),
      config_(std::move(config)),
      wait_alarm_(clock.make_alarm()),
      stream_grace_alarm_(clock.make_alarm()) {}

Coordinator::~Coordinator() = default;

void Coordinator::request_shutdown(ShutdownMode mode, int signal_number) {
    // Every graceful stop ends readiness when the coordinator takes it (preparing, or a retire
    // turned into a stop), so it may end here already. A fast one first asked of a retiring
    // process does not (the service goes on elsewhere): it waits for the coordinator.
    if (mode == ShutdownMode::graceful) stop_asked_.store(true, std::memory_order_release);
    post_([this, mode, signal_number] { on_request(mode, signal_number); });
}

void Coordinator::request_retire(ShutdownMode mode, int signal_number) {
    post_([this, mode, signal_number] { on_request(mode, signal_number, ShutdownIntent::retire); });
}

bool Coordinator::handle_signal(int signal_number) {
    const auto listed = [signal_number](const std::vector<int>& signals) {
        return std::find(signals.begin(), signals.end(), signal_number) != signals.end();
    };
    if (listed(config_.signals.fast)) {
        request_shutdown(ShutdownMode::fast, signal_number);
    } else if (listed(config_.signals.graceful)) {
        request_shutdown(ShutdownMode::graceful, signal_number);
    } else {
        return false;
    }
    return true;
}

void Coordinator::fail_durability(std::string why) {
    post_([this, why = std::move(why)]() mutable {
        if (!report_.durability_error.empty() || phase() >= Phase::exiting) return;
        report_.durability_error = std::move(why);
        checkpoint_failed_ = true;
        if (phase() == Phase::running) on_request(ShutdownMode::graceful, 0);
    });
}

void Coordinator::on_request(ShutdownMode mode, int signal_number, ShutdownIntent intent) {
    const auto current = phase();
    if (current == Phase::running) {
        signal_time_ = clock_.now();
        global_deadline_ = saturating_add(signal_time_, config_.budgets.global);
        report_.mode = mode;
        report_.intent = intent;
        report_.signal = signal_number;
        report_.signal_at = clock_.wall_now();
        report_.counts.in_flight_at_signal = drain_.in_flight();
        report_.connections.open_at_signal = connections_.size();
        retiring_.store(intent == ShutdownIntent::retire, std::memory_order_release);
        start_preparing();
    } else if (current < Phase::exiting && retiring() && intent == ShutdownIntent::stop && mode == ShutdownMode::graceful) {
        // The service itself stops while this process retires: readiness flips, no escalation.
        report_.intent = ShutdownIntent::stop;
        retiring_.store(false, std::memory_order_release);
    } else if (current < Phase::exiting && !fast()) {
        escalate();  // a second signal of any kind: stop waiting
    }
}

void Coordinator::escalate() {
    report_.mode = ShutdownMode::fast;
    report_.escalated = true;
    // Cleaning and persisting still run: fast shutdown skips waiting, never cleanup or durability.
    if (phase() <= Phase::tasks && wait_then_) finish_wait(wait_generation_, WaitResult::escalated);
}

void Coordinator::enter(Phase phase) {
    phase_start_ = clock_.now();
    phase_.store(phase, std::memory_order_release);
}

void Coordinator::leave(PhaseOutcome outcome, std::string detail) {
    report_.phases.push_back(PhaseRecord{phase(), phase_start_ - signal_time_, clock_.now() - signal_time_, outcome,
                                         std::move(detail)});
}

TimePoint Coordinator::deadline_after(Duration budget) const {
    return std::min(saturating_add(clock_.now(), budget), global_deadline_);
}

void Coordinator::wait(Subscribe subscribe, TimePoint deadline, std::function<void(WaitResult)> then) {
    const auto generation = ++wait_generation_;
    wait_then_ = std::move(then);
    wait_alarm_->arm(deadline, [this, generation] { finish_wait(generation, WaitResult::timed_out); });
    if (!subscribe) return;
    // What is over before subscribe returns (a blocking resource closed, nothing left to drain) goes
    // on at once, on this context. Posted, it queued behind everything the io threads held: after
    // 10,000 idle connections closed, their aborted waits, so each resource's close took 10-20 ms.
    bool done_at_once = false;
    {
        const Subscribing subscribing(this, generation, &done_at_once);
        subscribe([this, generation] {
            if (Subscribing::claim(this, generation)) return;
            post_([this, generation] { finish_wait(generation, WaitResult::completed); });
        });
    }
    if (done_at_once) finish_wait(generation, WaitResult::completed);
}

void Coordinator::finish_wait(std::uint64_t generation, WaitResult result) {
    if (generation != wait_generation_ || !wait_then_) return;  // a stale completion of an earlier wait
    ++wait_generation_;
    wait_alarm_->cancel();
    auto then = std::move(wait_then_);
    wait_then_ = nullptr;
    then(result);
}

void Coordinator::start_preparing() {
    enter(Phase::preparing);
    // A retiring process has nothing to announce: the service stays ready elsewhere.
    const auto delay = fast() || retiring() ? Duration::zero() : config_.budgets.drain_delay;
    if (delay <= Duration::zero()) {
        leave(PhaseOutcome::skipped, "no drain_delay");
        start_draining();
        return;
    }
    wait(nullptr, deadline_after(delay), [this](WaitResult result) {
        leave(result == WaitResult::escalated ? PhaseOutcome::escalated : PhaseOutcome::completed,
              "accepted new requests while not ready");
        start_draining();
    });
}

void Coordinator::start_draining() {
    enter(Phase::draining);
    drain_.begin_draining();
    accepted_at_drain_start_ = connections_.accepted();
    if (hooks_.stop_accepting) hooks_.stop_accepting();
    if (fast()) {
        connections_.close_all();
    } else if (spread_) {
        // Each batch holds draining until it has run: its connections take their own holds then.
        connections_.begin_draining([this](std::function<void()> batch) {
            spread_([hold = std::make_shared<DrainTracker::Guard>(drain_.hold()), batch = std::move(batch)] { batch(); });
        });
    } else {
        connections_.begin_draining();
    }
    if (!fast()) {
        stream_grace_alarm_->arm(deadline_after(config_.budgets.stream_grace), [this] { drain_.end_streams(); });
    }
    const auto budget = fast() ? Duration::zero() : config_.budgets.drain;
    wait([this](auto done) { drain_.on_idle(std::move(done)); }, deadline_after(budget),
         [this](WaitResult result) { finish_draining(result); });
}

void Coordinator::finish_draining(WaitResult result) {
    stream_grace_alarm_->cancel();
    // Holds count too: a connection held open (or a listener still accepting its backlog) at the
    // deadline is cut as surely as a request.
    const auto requests_left = drain_.in_flight();
    const auto holds_left = drain_.holds();
    const bool completed = result == WaitResult::completed || requests_left + holds_left == 0;
    if (!completed) {
        report_.counts.cut_at_drain_deadline = requests_left;
        if (!fast()) incomplete_ = true;
    }
    // What is still open now is half-read or cut by the deadline: close all of it.
    if (hooks_.drain_ended) hooks_.drain_ended();
    report_.connections.closed_at_drain_end = connections_.close_all();
    leave(outcome_of_wait(completed, !completed && fast()),
          completed ? "" : fmt::format("cut {} requests or streams and {} held connections still in flight", requests_left, holds_left));
    start_tasks();
}

void Coordinator::start_tasks() {
    enter(Phase::tasks);
    if (tasks_.running() == 0) {
        leave(PhaseOutcome::completed);
        start_cleaning();
        return;
    }
    if (fast()) {
        cancel_tasks();
        return;
    }
    wait([this](auto done) { tasks_.on_idle(std::move(done)); }, deadline_after(config_.budgets.tasks),
         [this](WaitResult result) {
             if (result == WaitResult::completed) {
                 leave(PhaseOutcome::completed);
                 start_cleaning();
             } else {
                 cancel_tasks();
             }
         });
}

void Coordinator::cancel_tasks() {
    tasks_.cancel_all();
    wait([this](auto done) { tasks_.on_idle(std::move(done)); }, deadline_after(config_.budgets.task_cancel_grace),
         [this](WaitResult result) {
             const auto saving = tasks_.saving();
             if (result == WaitResult::completed || saving == 0 || fast()) {
                 finish_tasks(0);
                 return;
             }
             // Tasks that stopped when asked and are saving their state get until the global
             // deadline; the ones that ignored cancellation are abandoned once those are done.
             wait([this](auto done) { tasks_.on_none_saving(std::move(done)); }, global_deadline_,
                  [this, saving](WaitResult) { finish_tasks(saving); });
         });
}

void Coordinator::finish_tasks(std::size_t waited_for_saving) {
    if (tasks_.running() > 0) report_.abandoned_tasks = tasks_.abandon_running();
    const auto& abandoned = report_.abandoned_tasks;
    if (!abandoned.empty()) incomplete_ = true;
    auto detail = abandoned.empty() ? std::string("every task stopped when cancelled")
                  : waited_for_saving == 0
                      ? fmt::format("abandoned {} task(s) that ignored cancellation: {}", abandoned.size(), join(abandoned))
                      : fmt::format("abandoned {} task(s) that ignored cancellation or were still saving at the global "
                                    "deadline: {}",
                                    abandoned.size(), join(abandoned));
    if (waited_for_saving > 0) {
        detail += fmt::format("; waited past the {} ms cancel grace for {} task(s) saving their state",
                              std::chrono::duration_cast<std::chrono::milliseconds>(config_.budgets.task_cancel_grace).count(),
                              waited_for_saving);
    }
    leave(fast() ? PhaseOutcome::escalated : abandoned.empty() ? PhaseOutcome::cancelled : PhaseOutcome::timed_out,
          std::move(detail));
    start_cleaning();
}

} // namespace lastcall::coordinator
