#pragma once
// A keep-alive connection between requests: no coroutine waits on it. The wait's handler owns the
// connection and hands it back to the session when a request's first bytes come, or to the
// session's end when it stayed idle for `idle_timeout` or was closed meanwhile. 10,000 idle
// keep-alive connections hold a socket, a Connection and two small pending waits each, as nginx
// holds an idle connection: no read buffer and no stack.
#include "connection.hpp"

namespace lastcall::server {

using ConnectionStep = void (*)(const ConnectionPtr&);

// `request_came`: bytes (or the peer's end) arrived, also when the timeout fired at the same time.
// `ended`: the idle timeout, unless the server closed the connection itself (then nothing is left to do).
void wait_for_next_request(const ConnectionPtr& c, ConnectionStep request_came, ConnectionStep ended);

} // namespace lastcall::server
