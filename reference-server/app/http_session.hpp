#pragma once
// One HTTP/1.1 connection: keep-alive, header/body limits, idle and header timeouts (slowloris),
// 400 on a malformed request, 503 + Retry-After + Connection: close for requests that arrive while
// draining, and SSE streams that end cleanly when the coordinator asks.
#include "app_state.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace lastcall::server {

// The socket's executor must be a strand: the session's state lives on it.
void start_session(boost::asio::ip::tcp::socket socket, AppState& app);

} // namespace lastcall::server
