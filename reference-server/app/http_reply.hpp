#pragma once
// Writing replies on a connection: a plain Reply (with or without its body, for HEAD), the interim
// 100 Continue, and the error replies built outside coroutines (GCC 12 mis-compiles string literals
// in braced temporaries inside a co_await expression).
#include "connection.hpp"
#include "routes.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace lastcall::server {

struct ReplyOptions {
    unsigned version = 11;
    bool announce_close = false;
    bool head_only = false;  // a HEAD request: the headers GET would get, no body
};

// The reply's bytes exactly as Beast's serializer wrote them (status line, Server, Content-Type, the
// reply's headers, Connection as keep_alive() sets it, Content-Length, then the body unless HEAD),
// built into one string: one allocation instead of Beast's field list and serializer, which took
// a sixth of the server's user time per request. tests/unit/server/reply_bytes_test.cpp holds it
// to Beast's output. The reply's own headers must not be Connection or Content-Length.
std::string reply_bytes(const Reply& reply, ReplyOptions options);
// The same, appended to `out` (a string kept between replies: no allocation each).
void append_reply_bytes(std::string& out, const Reply& reply, ReplyOptions options);

// What one send(2) took without waiting (all of it on a healthy connection with a small
// response), or why it failed.
struct SentAtOnce {
    std::size_t bytes = 0;
    boost::system::error_code ec;
};
SentAtOnce send_at_once(Connection& c, std::string_view bytes);
// The rest of a reply that send_at_once did not take, through the stream, within the header timeout.
boost::asio::awaitable<boost::system::error_code> write_rest(Connection& c, std::string_view rest);

// Writes reply_bytes: at once with one send(2) when the socket takes them all (a small response on
// a healthy connection: no suspension, no timer), the rest through the stream, within the header timeout.
boost::asio::awaitable<boost::system::error_code> write_reply(Connection& c, const Reply& reply, ReplyOptions options);
boost::asio::awaitable<boost::system::error_code> write_continue(Connection& c);

Reply error_reply(int status, std::string_view message);
Reply draining_reply();

} // namespace lastcall::server
