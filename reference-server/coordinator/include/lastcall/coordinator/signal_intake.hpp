#pragma once
// Listens for the signals of the coordinator's policy (asio::signal_set) and hands them over.
#include "lastcall/coordinator/coordinator.hpp"

#include <memory>

namespace boost::asio { class io_context; }

namespace lastcall::coordinator {

class SignalIntake {
public:
    SignalIntake(boost::asio::io_context& io, Coordinator& coordinator);
    ~SignalIntake();
    void stop();

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace lastcall::coordinator
