#pragma once
// The signals a process takes, each with the pid that sent it (SA_SIGINFO's si_pid), which
// asio::signal_set cannot tell. A prefork worker needs it: its master's signal only wakes it (what
// the master means is on the control channel, one word per signal), while a signal from anyone else
// is the worker's own to act on. Kernel signals of one number coalesce while pending, so counting
// them could never pair them with the master's words; the sender can.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <vector>

#include <csignal>
#include <sys/types.h>

namespace lastcall::server {

struct SignalFromSender {
    int signal = 0;
    pid_t sender = 0;  // 0 when the kernel sent it
};

// One per process: installs the handler for `signals`; a signal that arrives before start() is
// kept in the pipe until then, and one after the destructor is ignored (see there).
class SignalSenders {
public:
    using Handler = std::function<void(const SignalFromSender&)>;
    SignalSenders(boost::asio::strand<boost::asio::io_context::executor_type> strand, std::vector<int> signals);
    ~SignalSenders();
    SignalSenders(const SignalSenders&) = delete;
    SignalSenders& operator=(const SignalSenders&) = delete;

    // Calls `handler` on the strand with each signal, in the order they arrived, until cancel().
    void start(Handler handler);
    void cancel();

private:
    void wait_next();

    std::vector<int> signals_;
    int write_end_ = -1;
    boost::asio::posix::stream_descriptor read_end_;
    Handler handler_;
};

} // namespace lastcall::server
