#include "load_worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "text_rules.hpp"

#include <algorithm>
#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace lastcall::harness {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::int64_t max_outstanding_per_thread = 20000;

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// Ends the in-flight count of a request (begun by begin_request) when its coroutine ends, however
// it ends.
class InFlight {
public:
    explicit InFlight(LoadWorker::Live& live) : live_(live) {}
    ~InFlight() { live_.request_ended(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    LoadWorker::Live& live_;
};

// Marks a loop running from the moment it is spawned until its coroutine ends, however it ends.
class RunningLoop {
public:
    RunningLoop(LoadWorker::Live& live, bool& flag) : live_(live), flag_(flag) {}
    ~RunningLoop() {
        flag_ = false;
        live_.running_loops.fetch_sub(1);
    }
    RunningLoop(const RunningLoop&) = delete;
    RunningLoop& operator=(const RunningLoop&) = delete;

private:
    LoadWorker::Live& live_;
    bool& flag_;
};

} // namespace

LoadWorker::LoadWorker(int index, const WorkerContext& context, const std::vector<Workload>& workloads, const HostAddress& address,
                       std::uint16_t port)
    : work_(net::make_work_guard(io_)), index_(index), context_(context),
      spool_(context.history_dir, context.history_bytes_per_thread), tally_(context.tally_origin) {
    boost::system::error_code ec;
    endpoint_ = tcp::endpoint(net::ip::make_address(address.literal(), ec), port);  // a resolved literal: cannot fail
    authority_ = address.authority(port);
    const auto threads = static_cast<int>(context.threads);
    const auto t = static_cast<std::uint64_t>(index);
    for (std::size_t i = 0; i < workloads.size(); ++i) {
        const auto& spec = workloads[i];
        auto& ws = workloads_.emplace_back(io_);
        ws.spec = &spec;
        ws.index = static_cast<std::uint16_t>(i);
        ws.plan = plan_exchange(spec, address.authority(port));
        ws.back_to_back = spec.mode == LoadMode::closed && spec.kind == WorkloadKind::request && spec.think == std::chrono::nanoseconds::zero() &&
                          spec.keep_alive && !watches_body(ws.plan);
        ws.connections = spec.connections / threads + (index < spec.connections % threads ? 1 : 0);
        ws.rate = spec.rate / threads;
        const auto limit = context.open_loop_connections;
        ws.max_outstanding = limit <= 0 ? max_outstanding_per_thread : limit / threads + (index < limit % threads ? 1 : 0);
        if (spec.max_requests) {
            ws.max_requests = *spec.max_requests / context.threads + (t < *spec.max_requests % context.threads ? 1 : 0);
        }
    }
    live_.pending_starts = static_cast<std::int64_t>(workloads.size());
}

void LoadWorker::spawn(net::awaitable<void> task) {
    // Requests record their own failures; what escapes a loop is a harness fault, and is said.
    net::co_spawn(io_, std::move(task), [this](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& error) {
            harness_errors_.push_back({0, error.what()});
        } catch (...) {
            harness_errors_.push_back({0, "an exception that is not a std::exception"});
        }
    });
}

// Counted when decided, before its coroutine may even have started: all_workloads_done() must never
// see a moment with nothing pending, running or in flight while a request is on its way.
void LoadWorker::begin_request(WorkloadState& ws) {
    ++ws.started;
    live_.in_flight.fetch_add(1, std::memory_order_relaxed);
}

// A request's attempts. Each attempt is one coroutine frame here besides exchange()'s (a connect
// adds one): Asio recycles two frames per thread, and a third one nested per request was a malloc
// and a free per request.
net::awaitable<void> LoadWorker::run_one(WorkloadState& ws, ClientConnection& c, SteadyTime intended, LoopSlot* slot,
                                         std::uint64_t retry_of) {
    for (int attempt = retry_of != 0 ? 1 : 0;; ++attempt) {
        RequestRecord r;
        r.id = (next_id_++ << 8) | static_cast<std::uint64_t>(index_);
        r.workload = ws.index;
        r.intended_us = since_start_us(intended);
        r.retry_of = retry_of;
        Observation seen;
        seen.is_stream = ws.spec->kind == WorkloadKind::stream;
        int connect_errno = 0;
        try {
            if (const auto idle_end = c.idle_end_before_reuse()) note_connection_end(c, *idle_end);
            const bool connected_now = !c.open;
            if (connected_now) connect_errno = co_await connect(ws, c, r, seen);
            // The load stopped before this request went out (while its connection was being made:
            // a SYN lost to a dying target is sent again a second later, maybe to the restarted
            // one): it is never sent, and not recorded, as it never was a request.
            if (c.open && !still_wanted(ws, slot)) {
                if (connected_now) c.close();
                if (attempt == 0) --ws.started;  // max_requests counts requests sent: a start_load may send it later
                co_return;
            }
            // A closed loop's request starts when decided: on a connection already open, its
            // intended time is its send time too, read once (a clock read is a vDSO call of
            // some 30 ns on a VM, 5 a request were a tenth of its user time); after a connect
            // or for a retry it is read again.
            const auto now = slot && attempt == 0 && !connected_now ? std::optional<SteadyTime>(intended) : std::nullopt;
            if (c.open && begin_attempt(ws, c, r, seen, now)) {
                std::optional<ExchangePlan> resumed;  // only a resumed stream's request differs from the workload's
                StreamTrail* trail = start_trail(ws, r, slot, resumed);
                co_await exchange(c, resumed ? *resumed : ws.plan, context_.run_start, r, seen, trail);
                if (trail && slot) {
                    finish_request(ws, c, r, seen);  // after_stream() needs the outcome
                    after_stream(r, *trail, *slot);
                }
            } else if (c.open) {
                co_await drip_headers(*ws.spec, c, seen);  // finish_request() closes it: it never completes
            }
            finish_request(ws, c, r, seen);
        } catch (const std::exception& e) {
            note_harness_error(c, r, e.what());
        } catch (...) {
            note_harness_error(c, r, "an exception that is not a std::exception");
        }
        const bool retry = retries(ws, r, attempt);
        r.retried = retry;
        record(ws, c, r, connect_errno);
        if (!retry) break;
        retry_of = r.id;  // retried at once on a fresh connection, as HTTP clients do
    }
}

bool LoadWorker::retries(const WorkloadState& ws, const RequestRecord& r, int attempt) const {
    return attempt == 0 && !stopping_ && r.outcome == Outcome::idle_close_race && ws.spec->client_retry == ClientRetry::idempotent &&
           idempotent(ws.spec->request.method);
}

void LoadWorker::note_harness_error(ClientConnection& c, RequestRecord& r, std::string what) {
    r.done_us = since_start_us(Clock::now());
    r.outcome = Outcome::unknown;
    r.failure = Failure::harness_error;
    harness_errors_.push_back({r.id, std::move(what)});
    if (c.open) c.close();  // where the exchange stood is unknown: the connection cannot be reused
}

void LoadWorker::record(WorkloadState&, ClientConnection& c, const RequestRecord& r, int connect_errno) {
    if (r.outcome == Outcome::ok) latency_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - r.intended_us)) * 1000);
    live_.by_outcome[static_cast<int>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
    answers_.note_attempt(r);
    if (r.status != 0) answers_.note_http(r.done_us);
    else if (r.failure == Failure::bad_response && c.reader.error() == ReadError::bad_status_line) answers_.note_not_http(r, c.reader.bytes_at_failure());
    tally_.add(r, stopping_, connect_errno == EMFILE || connect_errno == ENFILE);
    if (!r.reply_value.empty()) reply_values_.push_back({r.workload, r.reply_value});
    if (r.outcome == Outcome::idle_close_race && c.held) {
        c.held->closed_after = true;
        if (c.held->closed_after_us < 0) c.held->closed_after_us = r.done_us;
    }
    release_held(c);
    if (c.open) c.held = r;
    else spool_.append(r);
}

void LoadWorker::release_held(ClientConnection& c) {
    if (!c.held) return;
    spool_.append(*c.held);
    c.held.reset();
}

// stream.resume: every stream request gets a trail of its event ids; one that follows a stream
// ended by shutdown sends that stream's last event id, as a browser's EventSource would.
StreamTrail* LoadWorker::start_trail(const WorkloadState& ws, const RequestRecord& r, const LoopSlot* slot,
                                     std::optional<ExchangePlan>& resumed) {
    if (!ws.spec->stream.resume) return nullptr;
    auto& trail = trails_.emplace_back();
    trail.request_id = r.id;
    if (slot && slot->resume_of != 0) {
        trail.resume_of = slot->resume_of;
        trail.sent_last_event_id = slot->resume_id;
        resumed = ws.plan;
        resumed->wire = wire_request(*ws.spec, authority_, slot->resume_id);
    }
    return &trail;
}

void LoadWorker::after_stream(const RequestRecord& r, const StreamTrail& trail, LoopSlot& slot) {
    // Answered with a stream: resumed, for better or worse (the check judges how).
    if (trail.resume_of != 0 && r.status / 100 == 2) {
        slot.resume_of = 0;
        slot.resume_id.clear();
    }
    if (r.outcome != Outcome::ended_by_shutdown) return;
    // Nothing carried an id (or one lastcall will not send back): reconnect without Last-Event-ID,
    // which asks for the stream from its start, as a client that received nothing would.
    const bool sendable = !trail.id_too_long && is_http_field_value(trail.last_id);
    slot.resume_of = r.id;
    slot.resume_id = sendable ? trail.last_id : std::string{};
}

net::awaitable<int> LoadWorker::connect(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen) {
    c.expires_after(ws.spec->timeout);
    const auto began_us = since_start_us(Clock::now());
    auto [ec] = co_await c.socket.async_connect(endpoint_, use_tuple);
    if (ec || c.timed_out()) {
        seen.failure = ec == net::error::connection_refused ? Failure::connect_refused : Failure::connect_error;
        r.connect_us = began_us;
        // The kernel's word on how the refusal came (a clock read here would depend on when this
        // thread ran): a SYN sent again means the first one met a listener that left it unanswered.
        tcp_info info{};
        socklen_t size = sizeof info;
        r.syn_retried = seen.failure == Failure::connect_refused && c.socket.is_open() &&
                        ::getsockopt(c.socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 && info.tcpi_total_retrans > 0;
        // What the system said, for a report that names it ("Too many open files" is not the server's doing).
        const bool system_said = ec && ec != net::error::connection_refused && ec.category() == boost::system::system_category();
        if (system_said) live_.connect_errno.store(ec.value(), std::memory_order_relaxed);
        c.close();
        co_return system_said ? ec.value() : 0;
    }
    c.expires_never();
    c.socket.set_option(tcp::no_delay(true), ec);
    c.socket.non_blocking(true, ec);  // exchange() sends the request without waiting
    // Refused by the set: its reads go through Asio instead. A slowloris drip is Asio's reads and writes.
    if (poller_.add(c.socket.native_handle(), c.readable) && ws.spec->kind != WorkloadKind::slowloris) c.leave_asio(endpoint_.protocol());
    c.open = true;
    c.id = next_connection_++;
    c.uses = 0;
    release_held(c);  // the response before was on the connection that ended
    c.buffer.clear();
    co_return 0;
}

// An attempt on an open connection begins; false for a slowloris request (its drip is not an exchange).
bool LoadWorker::begin_attempt(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen,
                               std::optional<SteadyTime> now) {
    r.connection_id = c.id;
    r.reuse_index = c.uses++;
    seen.reused_connection = r.reuse_index > 0;
    r.sent_us = since_start_us(now ? *now : Clock::now());
    if (context_.fault_hook) context_.fault_hook(r.id);
    return ws.spec->kind != WorkloadKind::slowloris;
}

void LoadWorker::finish_request(const WorkloadState& ws, ClientConnection& c, RequestRecord& r, Observation& seen) {
    if (r.done_us >= 0) return;  // finished already (a resumable stream's, for after_stream())
    r.done_us = seen.completed_us >= 0 ? seen.completed_us : since_start_us(Clock::now());
    const auto killed_at = context_.killed_at_us->load(std::memory_order_relaxed);
    // Whatever failed after the scenario ordered the kill was cut by it, whenever it was sent: a
    // request can cross the kill on the wire (sent in the same millisecond) and must not be
    // blamed on the server. Which of the two caused a failure seen after the kill cannot be told.
    const auto restarted_at = context_.restarted_at_us->load(std::memory_order_relaxed);
    const bool sent_to_killed = r.sent_us >= 0 && (restarted_at < 0 || r.sent_us < restarted_at);
    seen.target_killed_meanwhile = cut_ || (killed_at >= 0 && sent_to_killed && r.done_us >= killed_at);
    seen.closed_after_send_us = r.sent_us >= 0 ? r.done_us - r.sent_us : 0;
    r.outcome = classify(seen);
    r.failure = seen.failure;
    if (c.open && (!seen.complete || r.connection_close || !ws.spec->keep_alive || r.unsolicited_after)) c.close();
}

// The server closed an idle connection (or wrote to it): the response before says so.
void LoadWorker::note_connection_end(ClientConnection& c, IdleEnd how) {
    if (c.open) c.close();
    if (!c.held) return;
    auto& before = *c.held;
    if (how == IdleEnd::closed) before.closed_after = true;
    else before.unsolicited_after = true;
    if (before.closed_after_us < 0) before.closed_after_us = since_start_us(Clock::now());
    release_held(c);
}

void LoadWorker::keep_idle(ClientConnection& c) {
    c.watch_idle([this, &c](IdleEnd how) { note_connection_end(c, how); });
}

net::awaitable<void> LoadWorker::closed_loop(WorkloadState& ws, LoopSlot& slot) {
    const RunningLoop running(live_, slot.running);
    auto& c = slot.connection;
    // A stream waiting to be resumed is the same stream, not new work: the workload's stop time
    // (or stop_load) does not end it, only finish() does (the run's end, whatever ends it).
    const auto goes_on = [&] { return may_start(ws) || (slot.resume_of != 0 && !stopping_); };
    while (goes_on()) {
        SteadyTime intended{};
        std::uint64_t retry_of = 0;
        if (keeps_alive(ws, slot)) {
            // Requests back to back without this frame, until one needs more than a plain exchange.
            auto& run = slot.keep_alive;
            co_await net::async_initiate<const net::deferred_t&, void()>(
                [this, &ws, &slot](auto on_end) { begin_keep_alive_run(ws, slot, std::move(on_end)); }, net::deferred);
            if (run.fault) std::rethrow_exception(std::exchange(run.fault, nullptr));
            if (run.retry_of == 0) continue;
            intended = run.intended;  // the request the run began is retried here, on a new connection
            retry_of = std::exchange(run.retry_of, 0);
        } else {
            begin_request(ws);
            intended = Clock::now();
        }
        const auto refused_before = live_.by_outcome[static_cast<int>(Outcome::rejected)].load(std::memory_order_relaxed);
        {
            const InFlight in_flight(live_);
            co_await run_one(ws, c, intended, &slot, retry_of);
        }
        // After a refused connect, wait at least 10 ms like a client with backoff: no connect storm.
        const bool refused = !c.open && live_.by_outcome[static_cast<int>(Outcome::rejected)].load(std::memory_order_relaxed) != refused_before;
        const auto pause = refused ? std::max<std::chrono::nanoseconds>(ws.spec->think, std::chrono::milliseconds(10)) : ws.spec->think;
        if (pause > std::chrono::nanoseconds::zero() && goes_on()) {
            keep_idle(c);
            slot.think.expires_after(pause);
            co_await slot.think.async_wait(use_tuple);  // cancelled by stop() and finish()
            c.stop_watching();
        }
    }
    if (c.open) c.close();
}

net::awaitable<void> LoadWorker::open_request(WorkloadState& ws, SteadyTime intended) {
    const InFlight in_flight(live_);
    ClientConnection* c = nullptr;
    if (!ws.free.empty()) {
        c = ws.free.back();
        ws.free.pop_back();
    } else {
        c = &ws.pool.emplace_back(io_);
    }
    co_await run_one(ws, *c, intended);
    if (c->open && ws.open_loop_running && !stopping_) keep_idle(*c);
    else if (c->open) c->close();
    ws.free.push_back(c);
}

net::awaitable<void> LoadWorker::open_loop(WorkloadState& ws) {
    const RunningLoop running(live_, ws.open_loop_running);
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / ws.rate));
    // Threads interleave their schedules so the merged arrivals are evenly spaced.
    auto next = Clock::now() + interval * index_ / static_cast<int>(std::max<std::size_t>(1, context_.threads));
    const auto began = next;
    while (may_start(ws)) {
        ws.schedule.expires_at(next);
        if (auto [ec] = co_await ws.schedule.async_wait(use_tuple); ec) continue;  // cancelled: may_start() decides
        if (!may_start(ws)) break;
        if (live_.in_flight.load(std::memory_order_relaxed) < ws.max_outstanding) {
            begin_request(ws);
            spawn(open_request(ws, next));
        } else {
            ++ws.skipped;  // never silently: the bench reports it
        }
        next += interval;  // the schedule never slips: a late request keeps its intended time
    }
    // Stopped (not ended by max_requests): the arrivals due by the stop that this thread never got
    // to start are counted, never silently (a scenario run judges them: workloads_ran).
    if (!ws.active || stopping_) {
        const auto end = std::max(ws.stop_asked, began);
        if (next <= end) ws.behind += static_cast<std::uint64_t>((end - next) / interval) + 1;
        ws.scheduled += end - began;
    }
    for (auto* c : ws.free) {
        if (c->open) c->close();
    }
}

} // namespace lastcall::harness
