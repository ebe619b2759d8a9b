#pragma once
// Wires the reference service: state directory checks, the counter (counter_setup.hpp: recovered
// from checkpoint + journal, or a prefork worker's shared database), jobs database, listener,
// coordinator with its hooks and resources, signal intake, and the I/O threads.
#include "config.hpp"

#include <stdexcept>

namespace lastcall::server {

// The server refused to start; the message is one line for the operator. Exit code 3.
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runs until shutdown completes and returns the shutdown's exit code (see phase.hpp: exit_code).
// Throws StartupError when it refuses to start.
int run_server(const ServerConfig& config);

} // namespace lastcall::server
