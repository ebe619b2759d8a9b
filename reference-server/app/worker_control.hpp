#pragma once
// A prefork worker's end of its master's control channel (--control-fd, one end of a socketpair).
// The worker writes 'R' once it serves. The master writes a word, then sends the signal the word
// names: "C<signal>" because the service stops (readiness flips, new requests get 503; a second
// one escalates), "T<signal>" to retire this worker (a reload: the service goes on in other
// workers, so readiness holds). Each word is acted on once, when it is read; the master's signal
// only wakes the worker, so a word read early and its signal arriving late, or two signals of one
// number merged while pending, change nothing. A signal from anyone else (or from a parent that
// never said a word) is the worker's own: it stops (escalates) once the master said 'C', and
// retires before.
// The channel closing means the master died: the worker stops fast, never serving on alone.
// A packet "J<owner>" hands this worker the unfinished jobs of another ("J*": of an earlier run).
#include "lastcall/coordinator/coordinator.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace lastcall::server {

enum class MasterWord { stop, retire };

struct MasterSays {
    MasterWord word;
    int signal;  // what the master sends with it; 0 when an older master left it out
    bool operator==(const MasterSays&) const = default;
};

// Reads what the master wrote so far without blocking, in order. `closed` is set when the master's
// end is gone. Job hand-overs go to `claims` (the owner after 'J'). Pure over a file descriptor,
// for tests.
std::vector<MasterSays> read_master_words(int fd, bool& closed, std::vector<std::string>* claims = nullptr);

class WorkerControl {
public:
    // Takes `fd`. Signals of the coordinator's policy are taken here, not by SignalIntake; those
    // sent by `master` (the parent that spawned this worker) only wake it.
    WorkerControl(boost::asio::io_context& io, int fd, coordinator::Coordinator& coordinator, pid_t master = ::getppid());
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
