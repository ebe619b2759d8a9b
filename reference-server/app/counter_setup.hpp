#pragma once
// The counter a server runs with. One process: a CounterStore in its state dir, recovered from the
// checkpoint and the journal (stream positions ride in the checkpoint). A prefork worker: the
// SharedCounter in its master's state dir, which has no checkpoint (every commit is durable).
#include "config.hpp"
#include "counter_store.hpp"
#include "shared_counter.hpp"
#include "stream_positions.hpp"

#include <memory>
#include <optional>

namespace lastcall::server {

struct ServerCounter {
    std::unique_ptr<CounterStore> store;    // one process
    std::unique_ptr<SharedCounter> shared;  // a prefork worker
    std::optional<CounterStore::Recovered> recovered;

    Counter& counter() { return store ? static_cast<Counter&>(*store) : *shared; }
};

// Opens and recovers the counter; restores the stream positions the checkpoint holds. Throws
// StartupError when the state dir holds the other layout, or what is there is refused.
ServerCounter open_counter(const ServerConfig& config, StreamPositions& streams);

// Logged once the server listens: a refusal to start stays one line.
void log_recovery(const ServerCounter& counter, std::size_t stream_positions);

} // namespace lastcall::server
