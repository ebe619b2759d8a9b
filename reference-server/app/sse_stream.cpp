#include "sse_stream.hpp"

#include "http_reply.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace lastcall::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using coordinator::DrainTracker;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

std::string sse_event(std::string_view event, std::string_view data, std::size_t id) {
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, event, data);
}

DrainTracker::Guard track_stream(const ConnectionPtr& c) {
    std::weak_ptr<Connection> weak = c;
    auto executor = c->stream.get_executor();
    return c->app.coordinator.drain().track_stream([weak, executor] {
        net::post(executor, [weak] {
            if (auto live = weak.lock()) {
                live->end_stream_requested = true;
                if (live->stream_timer) live->stream_timer->cancel();
            }
        });
    });
}

} // namespace

net::awaitable<bool> serve_stream(ConnectionPtr c, const Request& request, unsigned version, bool client_keep_alive,
                                  DrainTracker::Guard hold) {
    auto& app = c->app;
    const auto chunks = int_param(request.target, "chunks", 10, 1, 1'000'000);
    const auto interval_ms = int_param(request.target, "interval_ms", 100, 0, 3'600'000);
    const auto timeout = app.config.header_timeout;
    if (!chunks || !interval_ms) {
        const auto reply = error_reply(400, "bad chunks or interval_ms");
        co_await write_reply(*c, reply, {version, true, false});
        co_return false;
    }
    DrainTracker::Guard guard = track_stream(c);
    hold.release();

    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "lastcall-server");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.chunked(true);
    const bool keep_alive = client_keep_alive && !app.coordinator.draining();
    res.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> serializer{res};
    c->stream.expires_after(timeout);
    if (auto [ec, n] = co_await http::async_write_header(c->stream, serializer, use_tuple); ec) co_return false;
    c->served = true;

    net::steady_timer timer(c->stream.get_executor());
    c->stream_timer = &timer;
    std::size_t sent = 0;
    while (sent < static_cast<std::size_t>(*chunks) && !c->end_stream_requested && !c->closed) {
        const auto event = sse_event("tick", fmt::format(R"({{"seq":{}}})", sent), sent);
        c->stream.expires_after(timeout);
        if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk(net::buffer(event)), use_tuple); ec) break;
        ++sent;
        if (sent < static_cast<std::size_t>(*chunks)) {
            timer.expires_after(std::chrono::milliseconds(*interval_ms));
            co_await timer.async_wait(use_tuple);  // cancelled early by an end request or a close
        }
    }
    c->stream_timer = nullptr;
    if (c->closed) co_return false;
    const bool by_shutdown = c->end_stream_requested;
    if (by_shutdown && app.faulty(Fault::truncate_streams)) {
        c->close();  // the bug: cut without end event or terminator
        co_return false;
    }
    const auto end = sse_event("end", fmt::format(R"({{"reason":"{}","events":{}}})", by_shutdown ? "shutdown" : "complete", sent), sent);
    c->stream.expires_after(timeout);
    if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk(net::buffer(end)), use_tuple); ec) co_return false;
    if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk_last(), use_tuple); ec) co_return false;
    // The head promised keep-alive: a request may follow at once, so a draining server lingers for
    // it (held before the stream's own guard goes) instead of closing under it.
    if (keep_alive && app.coordinator.draining()) c->linger(app.coordinator.drain().hold());
    co_return keep_alive;
}

} // namespace lastcall::server
