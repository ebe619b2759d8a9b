#pragma once
// Deliberate, realistic shutdown bugs (--fault NAME), each one seen in real servers. They exist so
// that the harness can prove every check fails for the right reason. The correct server has none.
#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::server {

enum class Fault : unsigned {
    no_drain,          // no signal handling at all: SIGTERM kills the process mid-request
    ignore_sigterm,    // SIGTERM ignored; only SIGKILL (or another signal) stops it
    keep_idle,         // idle keep-alive connections never closed, and draining waits for them (Node's close())
    no_close_header,   // during draining, responses (503s too) omit Connection: close and the connection is then closed
    truncate_streams,  // at stream grace, streams are cut: no end event, no chunked terminator
    checkpoint_early,  // the checkpoint holds the state from when draining started, and shutdown
                       // discards the journal as if that checkpoint covered it: later acknowledged writes are lost
    skip_checkpoint,   // no checkpoint, and shutdown discards the journal anyway
    ack_before_durable,  // increments acknowledged from memory, no journal: a SIGKILL loses them
    leak_fd,           // every request opens a file descriptor that is never closed
    orphan_child,      // starts a child process and leaves it running after exit
    slow_exit,         // budgets ignored: a resource takes longer than the global budget to close
    no_ready_flip,     // /ready stays 200 while shutting down
    forget_stream_positions,  // unfinished streams' positions are not kept across a restart: a
                              // client reconnecting with Last-Event-ID gets the stream again from event 0
    master_no_forward,   // --workers: the master handles the signal but never tells its workers
    reload_gap,          // --workers: a reload stops the old workers (and the listener) before starting new ones
    no_kill_escalation,  // --workers: workers still alive at the graceful timeout are never killed
    count_
};

struct FaultInfo {
    Fault fault;
    std::string_view name;
};
const std::vector<FaultInfo>& all_faults();
std::optional<Fault> parse_fault(std::string_view name);

class Faults {
public:
    void enable(Fault f) { bits_.set(static_cast<unsigned>(f)); }
    bool has(Fault f) const { return bits_.test(static_cast<unsigned>(f)); }
    bool any() const { return bits_.any(); }
    std::string names() const;

private:
    std::bitset<static_cast<unsigned>(Fault::count_)> bits_;
};

} // namespace lastcall::server
