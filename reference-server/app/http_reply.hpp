#pragma once
// Writing replies on a connection: a plain Reply (with or without its body, for HEAD), the interim
// 100 Continue, and the error replies built outside coroutines (GCC 12 mis-compiles string literals
// in braced temporaries inside a co_await expression).
#include "connection.hpp"
#include "routes.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace lastcall::server {

struct ReplyOptions {
    unsigned version = 11;
    bool announce_close = false;
    bool head_only = false;  // a HEAD request: the headers GET would get, no body
};

boost::asio::awaitable<boost::system::error_code> write_reply(Connection& c, const Reply& reply, ReplyOptions options);
boost::asio::awaitable<boost::system::error_code> write_continue(Connection& c);

Reply error_reply(int status, std::string_view message);
Reply draining_reply();

} // namespace lastcall::server
