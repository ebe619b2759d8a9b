// A closed loop's requests back to back on its open keep-alive connection, without a coroutine:
// the common case of a load test (`lastcall bench`, a scenario's plain GETs without think). Each
// response is read, classified and recorded, and the next request sent, in the handler run that the
// connection's readiness started (ReadWaiter::wait_calling). A request resumed three coroutine
// frames (the loop's, run_one's, exchange's), one per connection, each a cache miss on resume;
// here the state of the request in flight sits in the connection's slot.
//
// The exchange's pieces are request_exchange's, which exchange() uses too, and the record is
// LoadWorker::record's, so a request classifies alike on either path. What a plain exchange does
// not do ends the run and goes back to the loop's coroutine (load_worker.cpp): a connect (a closed
// connection), a retry (on a new connection), a stop, a think; the run's requests are the same
// records as the coroutine's, only cheaper to make.
#include "load_worker.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace lastcall::harness {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

void LoadWorker::KeepAliveRun::on_readable(boost::system::error_code ec) { worker->keep_alive_continue(*this, KeepAliveStep::readable, ec); }

// The next request may go out as part of a run: the workload goes on, and the connection is open and
// in the thread's readiness set (its reads need no Asio operation).
bool LoadWorker::keeps_alive(const WorkloadState& ws, const LoopSlot& slot) const {
    return ws.back_to_back && slot.connection.open && slot.connection.readable.registered() && slot.resume_of == 0 && may_start(ws);
}

void LoadWorker::begin_keep_alive_run(WorkloadState& ws, LoopSlot& slot, net::any_completion_handler<void()> on_end) {
    auto& run = slot.keep_alive;
    run.worker = this;
    run.ws = &ws;
    run.slot = &slot;
    run.retry_of = 0;
    run.on_end.emplace(std::move(on_end));
    keep_alive_continue(run, KeepAliveStep::fresh, {});
}

// Requests until one must wait (for a readiness edge, or the rest of its write) or the run ends.
void LoadWorker::keep_alive_continue(KeepAliveRun& run, KeepAliveStep step, boost::system::error_code ec) {
    auto& ws = *run.ws;
    auto& c = run.slot->connection;
    try {
        for (;;) {
            if (step == KeepAliveStep::fresh) {
                if (const auto idle_end = c.idle_end_before_reuse()) note_connection_end(c, *idle_end);
                if (!keeps_alive(ws, *run.slot)) return end_keep_alive_run(run);
                begin_request(ws);
                ++back_to_back_;
                run.in_flight = true;
                run.intended = Clock::now();  // a closed loop's request starts when decided: its send time too
                run.record = RequestRecord{};
                run.record.id = (next_id_++ << 8) | static_cast<std::uint64_t>(index_);
                run.record.workload = ws.index;
                run.record.intended_us = since_start_us(run.intended);
                run.seen = Observation{};
                run.read_ec = {};
            }
            if (!keep_alive_exchange(run, step, ec)) return;  // waits
            keep_alive_recorded(run);
            if (!run.in_flight) return end_keep_alive_run(run);  // to be retried (run.retry_of)
            run.in_flight = false;
            live_.request_ended();
            step = KeepAliveStep::fresh;
        }
    } catch (...) {
        // Past the request's own exchange (recording it): the loop's coroutine rethrows it, as
        // when it escaped run_one there.
        if (run.in_flight) live_.request_ended();
        run.in_flight = false;
        run.fault = std::current_exception();
        end_keep_alive_run(run);
    }
}

// The request's exchange from where it stands (`step`): true when it is over and finished (its
// outcome decided), false when it waits. A throw inside is the request's harness error, as run_one
// records it.
bool LoadWorker::keep_alive_exchange(KeepAliveRun& run, KeepAliveStep step, boost::system::error_code ec) {
    auto& ws = *run.ws;
    auto& c = run.slot->connection;
    auto& r = run.record;
    try {
        if (step == KeepAliveStep::fresh) {
            begin_attempt(ws, c, r, run.seen, run.intended);
            const auto sent = send_request(c, ws.plan, context_.run_start, r, ec);
            if (!ec && sent < ws.plan.wire.size()) {
                // The send buffer took part of it: the rest through Asio, as exchange() writes it.
                net::async_write(c.asio_socket(), net::buffer(ws.plan.wire) + sent, [this, &run](boost::system::error_code write_ec, std::size_t) {
                    keep_alive_continue(run, KeepAliveStep::written, write_ec);
                });
                return false;
            }
            step = KeepAliveStep::written;
        }
        if (step == KeepAliveStep::written) {
            if (write_failed(c, ec, run.seen)) {
                finish_request(ws, c, r, run.seen);
                return true;
            }
            c.reader.begin(ws.plan.head_request, nullptr);
        } else {
            after_readiness_wait(c, ec, run.read_ec);
        }
        if (!read_without_waiting(c, context_.run_start, r, run.seen, run.read_ec)) {
            c.readable.wait_calling(run);
            return false;
        }
        conclude_exchange(c, ws.plan, context_.run_start, r, run.seen, run.read_ec);
        finish_request(ws, c, r, run.seen);
    } catch (const std::exception& e) {
        note_harness_error(c, r, e.what());
    } catch (...) {
        note_harness_error(c, r, "an exception that is not a std::exception");
    }
    return true;
}

// As run_one after an attempt: a race with the server's idle close is retried if the workload asks,
// on a new connection, so by the loop's coroutine (the request stays in flight meanwhile).
void LoadWorker::keep_alive_recorded(KeepAliveRun& run) {
    auto& r = run.record;
    r.retried = retries(*run.ws, r, 0);
    record(*run.ws, run.slot->connection, r, 0);
    if (r.retried) {
        run.retry_of = r.id;
        run.in_flight = false;  // the coroutine's count now
    }
}

void LoadWorker::end_keep_alive_run(KeepAliveRun& run) {
    // Posted: the run may end inside the coroutine's own co_await (its first request cannot go out).
    net::post(io_, [on_end = std::move(*run.on_end)]() mutable { std::move(on_end)(); });
    run.on_end.reset();
}

} // namespace lastcall::harness
