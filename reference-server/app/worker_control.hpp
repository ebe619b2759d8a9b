#pragma once
// A prefork worker's end of its master's control channel (--control-fd, one end of a socketpair).
// The worker writes 'R' once it serves. The master writes 'C' before it signals every worker
// because the service stops, and 'T' before it signals one worker to retire (a reload). A signal is
// read together with what came before it on the channel: 'C' means stop (readiness flips, new
// requests get 503), anything else retire (the service goes on in other workers, so readiness holds).
// The channel closing means the master died: the worker stops fast, never serving on alone.
// A packet "J<owner>" hands this worker the unfinished jobs of another ("J*": of an earlier run).
#include "lastcall/coordinator/coordinator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lastcall::server {

enum class MasterWord { none, stop, retire };

// Reads what the master wrote so far without blocking; the last word wins. `closed` is set when
// the master's end is gone. Job hand-overs go to `claims` (the owner after 'J'). Pure over a file
// descriptor, for tests.
MasterWord read_master_words(int fd, MasterWord previous, bool& closed, std::vector<std::string>* claims = nullptr);

class WorkerControl {
public:
    // Takes `fd`. Signals of the coordinator's policy are taken here, not by SignalIntake.
    WorkerControl(boost::asio::io_context& io, int fd, coordinator::Coordinator& coordinator);
    ~WorkerControl();
    WorkerControl(const WorkerControl&) = delete;
    WorkerControl& operator=(const WorkerControl&) = delete;

    void send_ready();
    // Called on the control strand with each owner whose jobs the master hands over; hand-overs
    // read before it is set are kept for it.
    void on_claim(std::function<void(const std::string& owner)> handler);
    void stop();

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace lastcall::server
