// A load worker's control: its workloads started and stopped (on schedule or when told), and the
// two steps of finish() (no new requests, then every connection closed), each posted to the
// worker's own thread. The requests themselves are in load_worker.cpp.
#include "load_worker.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace lastcall::harness {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

void LoadWorker::activate(WorkloadState& ws) {
    if (ws.active || stopping_) return;
    ws.active = true;
    ws.done = false;
    // A loop counts as running from its spawn: a stop and a restart in between must not start a twin.
    if (ws.spec->mode == LoadMode::closed) {
        while (ws.slots.size() < static_cast<std::size_t>(ws.connections)) ws.slots.emplace_back(io_);
        for (auto& slot : ws.slots) {
            if (slot.running) continue;
            slot.running = true;
            live_.running_loops.fetch_add(1);
            spawn(closed_loop(ws, slot));
        }
    } else if (ws.rate > 0 && !ws.open_loop_running) {
        ws.open_loop_running = true;
        live_.running_loops.fetch_add(1);
        spawn(open_loop(ws));
    }
}

// `asked`: when the stop was asked (its timer's time, or when stop() was called), not when this
// thread got to it: an open loop's arrivals due by then were owed, later ones were not.
void LoadWorker::deactivate(WorkloadState& ws, SteadyTime asked) {
    if (ws.active) ws.stop_asked = asked;
    ws.active = false;
    ws.done = true;
    // Every wait of the workload ends now, not when its timer would have fired (think: 30s).
    ws.start_timer.cancel();
    ws.schedule.cancel();
    for (auto& slot : ws.slots) slot.think.cancel();
}

template <class Visit>
void LoadWorker::each_connection(Visit visit) {
    for (auto& ws : workloads_) {
        for (auto& slot : ws.slots) visit(slot.connection);
        for (auto& c : ws.pool) visit(c);
    }
}

void LoadWorker::start() {
    net::post(io_, [this] {
        for (auto& ws : workloads_) {
            ws.start_timer.expires_at(context_.run_start + ws.spec->start);
            ws.start_timer.async_wait([this, &ws](const boost::system::error_code& ec) {
                if (!ec && !ws.done) activate(ws);  // first: its loops count as running before the start stops pending
                live_.pending_starts.fetch_sub(1);
            });
            if (ws.spec->stop) {
                ws.stop_timer.expires_at(context_.run_start + *ws.spec->stop);
                ws.stop_timer.async_wait([this, &ws](const boost::system::error_code& ec) {
                    if (!ec) deactivate(ws, context_.run_start + *ws.spec->stop);
                });
            }
        }
    });
    thread_ = std::thread([this] {
        io_.run();
        // Every connection is closed now: the responses held back for their close go to the history.
        each_connection([this](ClientConnection& c) { release_held(c); });
        spool_.flush();
    });
}

void LoadWorker::stop(const std::vector<std::string>& names) {
    net::post(io_, [this, names, asked = Clock::now()] {
        for (auto& ws : workloads_) {
            if (names.empty() || std::find(names.begin(), names.end(), ws.spec->name) != names.end()) deactivate(ws, asked);
        }
    });
}

void LoadWorker::start_workload(const std::string& name) {
    net::post(io_, [this, name] {
        for (auto& ws : workloads_) {
            if (ws.spec->name == name) activate(ws);
        }
    });
}

void LoadWorker::stop_everything() {
    net::post(io_, [this, asked = Clock::now()] {
        stopping_ = true;
        for (auto& ws : workloads_) {
            deactivate(ws, asked);
            ws.stop_timer.cancel();
        }
        // Idle connections have nothing left to carry.
        for (auto& ws : workloads_) {
            for (auto* c : ws.free) {
                if (c->open) c->close();
            }
        }
    });
}

void LoadWorker::cut_and_release() {
    net::post(io_, [this] {
        cut_ = true;
        each_connection([](ClientConnection& c) {
            c.close();  // also a connect under way
        });
        work_.reset();
    });
}

void LoadWorker::join() {
    if (thread_.joinable()) thread_.join();
}

} // namespace lastcall::harness
