#pragma once
// The shutdown coordinator: Preparing -> Draining -> Tasks -> Cleaning -> Persisting -> Exiting.
// Each phase waits at most min(its budget, what is left of the global deadline). All state changes
// happen on the clock's serial context; the query functions are safe from any thread.
// It knows nothing of routes or sockets: the server plugs in through hooks and the registries.
#include "lastcall/coordinator/checkpointer.hpp"
#include "lastcall/coordinator/clock.hpp"
#include "lastcall/coordinator/connection_registry.hpp"
#include "lastcall/coordinator/drain_tracker.hpp"
#include "lastcall/coordinator/phase.hpp"
#include "lastcall/coordinator/resource_registry.hpp"
#include "lastcall/coordinator/shutdown_config.hpp"
#include "lastcall/coordinator/shutdown_report.hpp"
#include "lastcall/coordinator/task_tracker.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace lastcall::coordinator {

struct CoordinatorHooks {
    std::function<void()> stop_accepting;                 // stop taking new connections (may linger)
    // Draining is over (completed, cut by its deadline, or skipped by a fast shutdown): close
    // whatever still accepts, at once.
    std::function<void()> drain_ended;
    std::function<std::optional<std::string>()> snapshot;  // state to checkpoint; nullopt: nothing
    // The checkpoint of `generation` is durable: a write-ahead journal may now be compacted.
    std::function<void(std::uint64_t generation)> checkpointed;
    // Last call: stop the event loop. `report_error` is empty unless writing the report file failed.
    std::function<void(const ShutdownReport&, const std::string& report_error)> exited;
};

class Coordinator {
public:
    Coordinator(Clock& clock, ShutdownConfig config);
    ~Coordinator();
    Coordinator(const Coordinator&) = delete;
    Coordinator& operator=(const Coordinator&) = delete;

    void set_hooks(CoordinatorHooks hooks) { hooks_ = std::move(hooks); }
    void set_checkpointer(Checkpointer* checkpointer) { checkpointer_ = checkpointer; }
    // Where the connections hear that draining began: by default every on_draining runs on the
    // coordinator's context, one after the other. With a spread, in batches it runs where it likes
    // (the server posts them to its io threads, so that 10,000 idle connections are closed by all
    // of them, not after one thread has told each); draining is held open until every batch ran.
    void set_connection_spread(ConnectionRegistry::Spread spread) { spread_ = std::move(spread); }

    // Safe from any thread. A graceful request while graceful shutdown runs escalates to fast.
    void request_shutdown(ShutdownMode mode, int signal_number);
    // Maps a signal through the configured policy; returns false for a signal it does not handle.
    bool handle_signal(int signal_number);
    // Safe from any thread. Retire this process while the service goes on elsewhere (a prefork
    // worker replaced by a reload): no drain_delay, readiness held and requests on open connections
    // served (each with `Connection: close`) until draining ends; the listener's stop_accepting hook
    // sees retiring(). A graceful shutdown request during a retire turns it into a stop (readiness
    // flips, new requests get 503) without escalating; anything after that escalates.
    void request_retire(ShutdownMode mode, int signal_number);

    Phase phase() const { return phase_.load(std::memory_order_acquire); }
    bool retiring() const { return retiring_.load(std::memory_order_acquire); }
    // False from the moment a graceful stop is asked for (request_shutdown, on the asking thread),
    // not only once the coordinator's context has taken it: that context may be a thread a loaded
    // machine schedules milliseconds later.
    bool ready() const {
        return !stop_asked_.load(std::memory_order_acquire) && (phase() == Phase::running || (retiring() && phase() < Phase::tasks));
    }
    // New requests are still served (before the signal, while drain_delay lasts, while retiring).
    bool accepts_new_requests() const { return phase() <= Phase::preparing || (retiring() && phase() < Phase::tasks); }
    // Every response from now on must carry `Connection: close`.
    bool draining() const { return phase() >= Phase::draining; }
    void note_rejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
    // Safe from any thread. Acknowledged writes can no longer be made durable (a journal fsync
    // failed, which is never retried): shut down gracefully, report it, exit checkpoint_failed.
    void fail_durability(std::string why);

    DrainTracker& drain() { return drain_; }
    ConnectionRegistry& connections() { return connections_; }
    TaskTracker& tasks() { return tasks_; }
    ResourceRegistry& resources() { return resources_; }
    const ShutdownConfig& config() const { return config_; }

private:
    enum class WaitResult { completed, timed_out, escalated };
    class Subscribing;
    using Subscribe = std::function<void(std::function<void()> on_done)>;

    void on_request(ShutdownMode mode, int signal_number, ShutdownIntent intent = ShutdownIntent::stop);
    void escalate();
    void enter(Phase phase);
    void leave(PhaseOutcome outcome, std::string detail = {});
    void wait(Subscribe subscribe, TimePoint deadline, std::function<void(WaitResult)> then);
    void finish_wait(std::uint64_t generation, WaitResult result);
    TimePoint deadline_after(Duration budget) const;
    bool fast() const { return report_.mode == ShutdownMode::fast; }

    void start_preparing();
    void start_draining();
    void finish_draining(WaitResult result);
    void start_tasks();
    void cancel_tasks();
    void finish_tasks(std::size_t waited_for_saving);
    void start_cleaning();
    void close_resource(std::size_t index);
    void start_persisting();
    void start_exiting();
    int compute_exit_code() const;

    Clock& clock_;
    Post post_;
    ShutdownConfig config_;
    CoordinatorHooks hooks_;
    ConnectionRegistry::Spread spread_;
    Checkpointer* checkpointer_ = nullptr;

    std::atomic<Phase> phase_{Phase::running};
    std::atomic<bool> retiring_{false};
    std::atomic<bool> stop_asked_{false};  // a graceful stop was asked for: readiness fails at once
    std::atomic<std::uint64_t> rejected_{0};
    DrainTracker drain_;
    ConnectionRegistry connections_;
    TaskTracker tasks_;
    ResourceRegistry resources_;

    // Serial-context state below.
    std::unique_ptr<Alarm> wait_alarm_;
    std::unique_ptr<Alarm> stream_grace_alarm_;
    std::uint64_t wait_generation_ = 0;
    std::function<void(WaitResult)> wait_then_;
    TimePoint signal_time_{};
    TimePoint global_deadline_{};
    TimePoint phase_start_{};
    TimePoint cleanup_deadline_{};
    std::vector<ResourceRegistry::Resource> closing_;
    bool incomplete_ = false;
    bool checkpoint_failed_ = false;
    std::uint64_t accepted_at_drain_start_ = 0;
    ShutdownReport report_;
};

} // namespace lastcall::coordinator
