#pragma once
// One thread of the load generator (internal to it): its own io_context, its share of every
// workload's connections or rate, its own history file, histogram, bench totals and live counters. Only
// the live counters are read by other threads; everything else is touched by this thread alone
// until the thread has been joined.
#include "client_connection.hpp"
#include "histogram.hpp"
#include "history.hpp"
#include "history_spool.hpp"
#include "load_generator.hpp"
#include "not_http.hpp"
#include "readiness_poller.hpp"
#include "request_exchange.hpp"
#include "stream_trail.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

namespace lastcall::harness {

// What every worker of one generator shares, read-only once the threads run.
struct WorkerContext {
    SteadyTime run_start{};
    const std::atomic<std::int64_t>* killed_at_us = nullptr;  // -1 until the scenario SIGKILLs the target
    const std::atomic<std::int64_t>* restarted_at_us = nullptr;  // -1 until a generation starts after that
    std::size_t threads = 1;
    std::function<void(std::uint64_t)> fault_hook;
    int open_loop_connections = 0;  // LoadOptions::open_loop_connections
    std::filesystem::path history_dir;  // LoadOptions::history_dir, resolved
    std::uint64_t history_bytes_per_thread = default_history_bytes;
    LatencyOrigin tally_origin = LatencyOrigin::send;
};

class LoadWorker {
public:
    struct alignas(64) Live {
        std::atomic<std::int64_t> in_flight{0};
        std::atomic<std::int64_t> running_loops{0};
        std::atomic<std::int64_t> pending_starts{0};  // workloads whose start time has not come yet
        std::atomic<std::uint64_t> completed{0};
        std::array<std::atomic<std::uint64_t>, outcome_count> by_outcome{};
        std::atomic<int> connect_errno{0};  // the last connect failure other than a refusal (EMFILE: out of descriptors)
        // A request begun by begin_request() ended, however it ended.
        void request_ended() {
            completed.fetch_add(1, std::memory_order_relaxed);
            in_flight.fetch_sub(1, std::memory_order_release);  // publishes the record to peek_reply_values()
        }
    };

    LoadWorker(int index, const WorkerContext& context, const std::vector<Workload>& workloads, const HostAddress& address,
               std::uint16_t port);
    LoadWorker(const LoadWorker&) = delete;
    LoadWorker& operator=(const LoadWorker&) = delete;

    // Thread-safe: each posts to the worker's own thread.
    void start();
    void stop(const std::vector<std::string>& names);  // empty: all
    void start_workload(const std::string& name);
    void stop_everything();   // finish(), first step: no new requests, every wait cancelled
    void cut_and_release();   // finish(), last step: close every connection; the thread then ends
    void join();

    const Live& live() const { return live_; }
    // After join(): every record this thread kept, streamed from its history file.
    const HistorySpool& history() const { return spool_; }
    // While all workloads are done (nothing writes then), or after join().
    const std::vector<KeptReplyValue>& reply_values() const { return reply_values_; }
    const Histogram& latency() const { return latency_; }
    const BenchTally& tally() const { return tally_; }  // after join()
    const std::vector<HarnessError>& harness_errors() const { return harness_errors_; }
    const AnswersSeen& answers() const { return answers_; }  // after join()
    std::uint64_t skipped_arrivals() const {  // after join()
        std::uint64_t total = 0;
        for (const auto& ws : workloads_) total += ws.skipped;
        return total;
    }
    OpenLoopTally open_loop_tally(std::size_t workload) const {  // after join()
        const auto& ws = workloads_[workload];
        return {ws.started, ws.skipped, ws.behind, ws.scheduled};
    }
    std::size_t open_loop_connections_used() const {  // after join(): each pool grows only when all its connections are busy
        std::size_t total = 0;
        for (const auto& ws : workloads_) total += ws.pool.size();
        return total;
    }
    std::deque<StreamTrail>& stream_trails() { return trails_; }
    std::uint64_t requests_back_to_back() const { return back_to_back_; }  // after join()

private:
    struct WorkloadState;
    struct LoopSlot;
    // A closed loop's requests back to back on its open keep-alive connection, each sent in the
    // handler run that read the response before it, without a coroutine frame per request
    // (load_worker_keep_alive.cpp): the common case of a load test. The request in flight lives
    // here, and the loop's coroutine waits for the run's end, when a request needs more than a
    // plain exchange (a connect, a retry, a stop, a think).
    struct KeepAliveRun final : ReadyTarget {
        void on_readable(boost::system::error_code ec) override;
        LoadWorker* worker = nullptr;
        WorkloadState* ws = nullptr;
        LoopSlot* slot = nullptr;
        RequestRecord record;
        Observation seen;
        boost::system::error_code read_ec;
        SteadyTime intended{};
        bool in_flight = false;          // begun (begin_request) and not yet ended
        std::uint64_t retry_of = 0;      // the run ended to retry this attempt on a new connection (the request stays in flight)
        std::exception_ptr fault;        // thrown past a request (recording it): rethrown in the loop's coroutine
        // The loop's coroutine, resumed (posted) when the run ends. In an optional: see ReadWaiter::handler_.
        std::optional<boost::asio::any_completion_handler<void()>> on_end;
    };
    enum class KeepAliveStep : std::uint8_t { fresh, written, readable };

    struct LoopSlot {  // one closed-loop connection
        explicit LoopSlot(boost::asio::io_context& io) : connection(io), think(io) {}
        ClientConnection connection;
        KeepAliveRun keep_alive;
        boost::asio::steady_timer think;
        bool running = false;
        // stream.resume: the stream this connection's next request resumes (its request id, 0 for
        // none) and the Last-Event-ID it sends, until a generation answers it 2xx.
        std::uint64_t resume_of = 0;
        std::string resume_id;
    };
    struct WorkloadState {
        explicit WorkloadState(boost::asio::io_context& io) : start_timer(io), stop_timer(io), schedule(io) {}
        const Workload* spec = nullptr;
        std::uint16_t index = 0;
        ExchangePlan plan;
        int connections = 0;  // this thread's share
        double rate = 0;      // this thread's share, per second
        std::int64_t max_outstanding = 0;  // open loop: this thread's share of the limit
        std::uint64_t skipped = 0;         // open loop: arrivals past max_outstanding, never sent
        // Open loop: the arrivals its schedule had due by the moment it was told to stop and never
        // started (this thread could not keep up), and how long the schedule ran in all.
        std::uint64_t behind = 0;
        std::chrono::nanoseconds scheduled{0};
        SteadyTime stop_asked{};  // the moment the latest stop was asked (deactivate())
        std::optional<std::uint64_t> max_requests;
        std::uint64_t started = 0;
        bool active = false;
        bool done = false;    // stopped (stop time or stop_load) before or after it started
        bool open_loop_running = false;
        // Closed loop of plain requests (no stream, no body watched, no think, keep-alive): its
        // requests on an open connection run as a KeepAliveRun.
        bool back_to_back = false;
        boost::asio::steady_timer start_timer, stop_timer, schedule;
        std::deque<LoopSlot> slots;              // closed loop
        std::deque<ClientConnection> pool;       // open loop: every connection it used, stable
        std::vector<ClientConnection*> free;     // open loop: pooled and not in use
    };

    void begin_request(WorkloadState& ws);
    // `retry_of`: the attempt this request retries (a keep-alive run's, which recorded it), else 0.
    boost::asio::awaitable<void> run_one(WorkloadState& ws, ClientConnection& c, SteadyTime intended, LoopSlot* slot = nullptr,
                                         std::uint64_t retry_of = 0);
    // An attempt ended idle_close_race is retried at once on a new connection, if the workload asks.
    bool retries(const WorkloadState& ws, const RequestRecord& r, int attempt) const;
    // load_worker_keep_alive.cpp
    bool keeps_alive(const WorkloadState& ws, const LoopSlot& slot) const;
    void begin_keep_alive_run(WorkloadState& ws, LoopSlot& slot, boost::asio::any_completion_handler<void()> on_end);
    void keep_alive_continue(KeepAliveRun& run, KeepAliveStep step, boost::system::error_code ec);
    bool keep_alive_exchange(KeepAliveRun& run, KeepAliveStep step, boost::system::error_code ec);
    void keep_alive_recorded(KeepAliveRun& run);
    void end_keep_alive_run(KeepAliveRun& run);
    // `now`: the time, when the caller has just read it (else read here).
    bool begin_attempt(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen, std::optional<SteadyTime> now);
    // The errno of a connect that failed other than refused (EMFILE: lastcall out of descriptors); 0 otherwise.
    boost::asio::awaitable<int> connect(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen);
    void finish_request(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen);
    StreamTrail* start_trail(const WorkloadState& ws, const RequestRecord& r, const LoopSlot* slot, std::optional<ExchangePlan>& resumed);
    static void after_stream(const RequestRecord& r, const StreamTrail& trail, LoopSlot& slot);
    boost::asio::awaitable<void> closed_loop(WorkloadState& ws, LoopSlot& slot);
    boost::asio::awaitable<void> open_loop(WorkloadState& ws);
    boost::asio::awaitable<void> open_request(WorkloadState& ws, SteadyTime intended);
    void activate(WorkloadState& ws);
    void deactivate(WorkloadState& ws, SteadyTime asked);
    bool may_start(const WorkloadState& ws) const {
        return ws.active && !stopping_ && (!ws.max_requests || ws.started < *ws.max_requests);
    }
    // A request not yet sent may still be: its workload runs, or it resumes a stream (which only
    // finish() ends, as closed_loop() does).
    bool still_wanted(const WorkloadState& ws, const LoopSlot* slot) const {
        return !stopping_ && (ws.active || (slot && slot->resume_of != 0));
    }
    void spawn(boost::asio::awaitable<void> task);
    void keep_idle(ClientConnection& c);
    void note_connection_end(ClientConnection& c, IdleEnd how);
    void note_harness_error(ClientConnection& c, RequestRecord& r, std::string what);
    void record(WorkloadState& ws, ClientConnection& c, const RequestRecord& r, int connect_errno);
    void release_held(ClientConnection& c);
    template <class Visit>
    void each_connection(Visit visit);
    std::int64_t since_start_us(SteadyTime t) const {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - context_.run_start).count();
    }

    // Declared first, destroyed last: sockets and timers below must go before their io_context.
    // Every socket of a worker is opened, used and closed on its own thread (other threads only
    // post to it): the reactor's per-socket locking is off (UNSAFE_IO), the queue's stays on.
    boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    ReadinessPoller poller_{io_};  // before the connections whose waits it holds
    int index_;
    const WorkerContext& context_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::deque<WorkloadState> workloads_;
    HistorySpool spool_;
    std::vector<KeptReplyValue> reply_values_;  // for the read-back after a restart (jobs, set writes)
    std::vector<HarnessError> harness_errors_;
    AnswersSeen answers_;  // whether the target answered with HTTP at all (not_http.hpp)
    std::deque<StreamTrail> trails_;  // stable: a request's trail is written across its co_awaits
    std::string authority_;           // the Host header, for a resumed stream's request
    Histogram latency_;
    BenchTally tally_;
    Live live_;
    std::uint64_t next_id_ = 1;
    std::uint64_t back_to_back_ = 0;  // requests begun in a KeepAliveRun
    std::uint32_t next_connection_ = 1;
    bool stopping_ = false;
    bool cut_ = false;  // finish() ran out of grace: what fails now was cut by the harness
    std::thread thread_;
};

} // namespace lastcall::harness
