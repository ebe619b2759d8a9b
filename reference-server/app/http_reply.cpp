#include "http_reply.hpp"

#include "log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace lastcall::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

net::awaitable<beast::error_code> write_reply(Connection& c, const Reply& reply, ReplyOptions options) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), options.version};
    res.set(http::field::server, "lastcall-server");
    res.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    res.keep_alive(!options.announce_close);
    res.body() = reply.body;
    res.prepare_payload();
    c.stream.expires_after(c.app.config.header_timeout);
    beast::error_code ec;
    if (options.head_only) {
        http::response_serializer<http::string_body> serializer{res};
        std::tie(ec, std::ignore) = co_await http::async_write_header(c.stream, serializer, use_tuple);
    } else {
        std::tie(ec, std::ignore) = co_await http::async_write(c.stream, res, use_tuple);
    }
    if (!ec) c.served = true;
    co_return ec;
}

net::awaitable<beast::error_code> write_continue(Connection& c) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    c.stream.expires_after(c.app.config.header_timeout);
    auto [ec, n] = co_await net::async_write(c.stream, net::buffer(interim.data(), interim.size()), use_tuple);
    co_return ec;
}

Reply error_reply(int status, std::string_view message) {
    return Reply{status, "application/json", fmt::format(R"({{"error":"{}"}})", log::json_escape(message)), {}};
}

Reply draining_reply() { return Reply{503, "text/plain", "shutting down\n", {{"Retry-After", "1"}}}; }

} // namespace lastcall::server
