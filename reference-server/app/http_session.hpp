#pragma once
// One HTTP/1.1 connection: keep-alive and pipelining, header/body limits, idle and header timeouts
// (slowloris), RFC 9112 request rules (request_rules.hpp), Expect: 100-continue, HEAD, 503 +
// Retry-After + Connection: close for requests that arrive while draining, SSE streams, and a
// lingering close so that a client's unread bytes never turn a response into a reset.
#include "app_state.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace lastcall::server {

// The socket's executor must be a strand, or the io_context's own with one io thread: the session's state
// lives on it.
void start_session(boost::asio::ip::tcp::socket socket, AppState& app);

} // namespace lastcall::server
