#pragma once
// A prefork worker's end of its master's control channel (--control-fd, one end of a socketpair).
// The worker writes 'R' once it serves. The master writes 'C' before it signals every worker
// because the service stops, and 'T' before it signals one worker to retire (a reload). A signal is
// read together with what came before it on the channel: 'C' means stop (readiness flips, new
// requests get 503), anything else retire (the service goes on in other workers, so readiness holds).
// The channel closing means the master died: the worker stops fast, never serving on alone.
#include "lastcall/coordinator/coordinator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include <memory>

namespace lastcall::server {

enum class MasterWord { none, stop, retire };

// Reads what the master wrote so far without blocking; the last word wins. `closed` is set when
// the master's end is gone. Pure over a file descriptor, for tests.
MasterWord read_master_words(int fd, MasterWord previous, bool& closed);

class WorkerControl {
public:
    // Takes `fd`. Signals of the coordinator's policy are taken here, not by SignalIntake.
    WorkerControl(boost::asio::io_context& io, int fd, coordinator::Coordinator& coordinator);
    ~WorkerControl();
    WorkerControl(const WorkerControl&) = delete;
    WorkerControl& operator=(const WorkerControl&) = delete;

    void send_ready();
    void stop();

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace lastcall::server
