#pragma once
// One client connection of lastcall's proxy (internal to harness/proxy): requests read with Beast's
// request_parser within limits, each either answered 503 (the endpoint is removed) or forwarded on
// a pooled keep-alive connection to the target, whose response is framed by ResponseReader and
// relayed byte for byte: the head once it is whole and valid, then the body as it arrives (a stream
// is never buffered). A failure before the head went out is the proxy's own 502/504 marked
// X-Lastcall-Proxy; a failure after it is a reset of the client's connection, as nginx does.
// Every request leaves a ProxyRecord.
#include "proxy/proxy_state.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace lastcall::harness::proxy {

// Serves the connection until either side ends it or the proxy stops.
boost::asio::awaitable<void> serve_client(ProxyState& state, boost::asio::ip::tcp::socket socket);

// Cuts a session's connections (client and upstream); its coroutine then ends. For stop().
void cut_session(ProxySession& session);

} // namespace lastcall::harness::proxy
