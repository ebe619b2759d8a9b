#include "lastcall/coordinator/signal_intake.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace lastcall::coordinator {

namespace net = boost::asio;

struct SignalIntake::State : std::enable_shared_from_this<State> {
    State(net::io_context& io, Coordinator& c) : signals(io), coordinator(c) {}

    void wait_next() {
        signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signal_number) {
            if (ec) return;  // stopped
            self->coordinator.handle_signal(signal_number);
            self->wait_next();  // keep listening: a second signal escalates
        });
    }

    net::signal_set signals;
    Coordinator& coordinator;
};

SignalIntake::SignalIntake(net::io_context& io, Coordinator& coordinator)
    : state_(std::make_shared<State>(io, coordinator)) {
    const auto& policy = coordinator.config().signals;
    for (int s : policy.graceful) state_->signals.add(s);
    for (int s : policy.fast) state_->signals.add(s);
    state_->wait_next();
}

SignalIntake::~SignalIntake() { stop(); }

void SignalIntake::stop() {
    boost::system::error_code ignored;
    state_->signals.cancel(ignored);
}

} // namespace lastcall::coordinator
