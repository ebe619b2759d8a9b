#pragma once
// Listens for the signals of the coordinator's policy (asio::signal_set) and hands them over.
// Header-only, like asio_clock.hpp: it compiles in the embedder's own Asio configuration.
#include "lastcall/coordinator/coordinator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>

namespace lastcall::coordinator {

class SignalIntake {
public:
    SignalIntake(boost::asio::io_context& io, Coordinator& coordinator)
        : state_(std::make_shared<State>(io, coordinator)) {
        const auto& policy = coordinator.config().signals;
        for (int s : policy.graceful) state_->signals.add(s);
        for (int s : policy.fast) state_->signals.add(s);
        state_->wait_next();
    }
    ~SignalIntake() { stop(); }
    SignalIntake(const SignalIntake&) = delete;
    SignalIntake& operator=(const SignalIntake&) = delete;

    void stop() {
        boost::system::error_code ignored;
        state_->signals.cancel(ignored);
    }

private:
    struct State : std::enable_shared_from_this<State> {
        State(boost::asio::io_context& io, Coordinator& c) : signals(io), coordinator(c) {}

        void wait_next() {
            signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signal_number) {
                if (ec) return;  // stopped
                self->coordinator.handle_signal(signal_number);
                self->wait_next();  // keep listening: a second signal escalates
            });
        }

        boost::asio::signal_set signals;
        Coordinator& coordinator;
    };
    std::shared_ptr<State> state_;
};

} // namespace lastcall::coordinator
