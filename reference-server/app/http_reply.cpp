#include "http_reply.hpp"

#include "log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <sys/socket.h>

namespace lastcall::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string reply_bytes(const Reply& reply, ReplyOptions options) {
    std::string out;
    append_reply_bytes(out, reply, options);
    return out;
}

void append_reply_bytes(std::string& out, const Reply& reply, ReplyOptions options) {
    const auto reason = http::obsolete_reason(static_cast<http::status>(reply.status));
    out.reserve(out.size() + 112 + reply.content_type.size() + reply.body.size());
    // By hand rather than fmt: the whole of it is a few appends, on every request.
    const auto number = [&out](std::size_t value) {
        char digits[20];
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        out.append(digits, end);
    };
    out += "HTTP/";
    number(options.version / 10);
    out += '.';
    number(options.version % 10);
    out += ' ';
    number(static_cast<std::size_t>(reply.status));
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\nServer: lastcall-server\r\nContent-Type: ";
    out += reply.content_type;
    out += "\r\n";
    for (const auto& [name, value] : reply.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    // Beast's keep_alive(): HTTP/1.1 says only close, HTTP/1.0 says only keep-alive.
    if (options.version >= 11 && options.announce_close) out += "Connection: close\r\n";
    if (options.version < 11 && !options.announce_close) out += "Connection: keep-alive\r\n";
    out += "Content-Length: ";
    number(reply.body.size());
    out += "\r\n\r\n";
    if (!options.head_only) out += reply.body;
}

SentAtOnce send_at_once(Connection& c, std::string_view bytes) {
    auto& socket = c.stream.socket();
    if (!socket.is_open()) return {0, net::error::bad_descriptor};
    if (const auto n = ::send(socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL); n >= 0) {
        return {static_cast<std::size_t>(n), {}};
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return {0, beast::error_code(errno, boost::system::system_category())};
    return {};
}

net::awaitable<beast::error_code> write_rest(Connection& c, std::string_view rest) {
    c.stream.expires_after(c.app.config.header_timeout);
    auto [ec, n] = co_await net::async_write(c.stream, net::buffer(rest.data(), rest.size()), use_tuple);
    co_return ec;
}

net::awaitable<beast::error_code> write_reply(Connection& c, const Reply& reply, ReplyOptions options) {
    const auto bytes = reply_bytes(reply, options);
    const auto sent = send_at_once(c, bytes);
    auto ec = sent.ec;
    if (!ec && sent.bytes < bytes.size()) ec = co_await write_rest(c, std::string_view(bytes).substr(sent.bytes));
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
