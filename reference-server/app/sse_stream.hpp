#pragma once
// GET /stream: SSE `tick` events (`id: S-n`, `{"seq":n}`), ended by `event: end` with reason
// complete or shutdown and the chunked terminator, tracked as a stream so that draining tells it to
// end after stream_grace. An unfinished stream's position is kept (and checkpointed): a request
// with `Last-Event-ID: S-n` gets events n+1.. of S, even from the next generation of the server.
#include "connection.hpp"
#include "routes.hpp"

#include <boost/asio/awaitable.hpp>

namespace lastcall::server {

// Returns whether the connection may carry another request (the stream's head promised keep-alive
// and it ended cleanly). If draining has begun by then, the connection already lingers. `hold`
// keeps draining open until the stream is tracked.
boost::asio::awaitable<bool> serve_stream(ConnectionPtr c, const Request& request, std::string_view last_event_id, unsigned version,
                                          bool client_keep_alive, coordinator::DrainTracker::Guard hold);

} // namespace lastcall::server
