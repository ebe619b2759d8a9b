#include "http_session.hpp"

#include "log.hpp"
#include "routes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <memory>

namespace lastcall::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using coordinator::DrainTracker;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::size_t header_limit = 16 * 1024;
constexpr std::uint64_t body_limit = 1024 * 1024;

// Touched only on the session's strand: by the session coroutine and by what the coordinator posts.
struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}

    void close() {
        if (closed) return;
        closed = true;
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        if (stream_timer) stream_timer->cancel();
        if (first_request_timer) first_request_timer->cancel();
        first_request_guard.release();
    }
    // Idle: between requests with no byte of the next one read or waiting in the kernel.
    bool really_idle() {
        beast::error_code ec;
        return idle && buffer.size() == 0 && stream.socket().available(ec) == 0 && !ec;
    }

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bool idle = true;
    bool closed = false;
    bool carried_request = false;
    // A connection that never carried a request is not idle: its client connected to send one
    // (go#22682). When draining starts it is held in flight briefly so that request gets a clean 503.
    DrainTracker::Guard first_request_guard;
    std::unique_ptr<net::steady_timer> first_request_timer;
    bool end_stream_requested = false;
    net::steady_timer* stream_timer = nullptr;  // so that a close or an end request cuts the wait short
};
using ConnectionPtr = std::shared_ptr<Connection>;

// How long a fresh connection may take to send its first request once draining has started.
constexpr auto first_request_grace = std::chrono::milliseconds(200);

// Arms the grace for a connection that never carried a request; `guard` already counts it in flight.
void hold_for_first_request(const ConnectionPtr& c, DrainTracker::Guard guard) {
    c->first_request_guard = std::move(guard);
    c->first_request_timer = std::make_unique<net::steady_timer>(c->stream.get_executor(), first_request_grace);
    c->first_request_timer->async_wait([weak = std::weak_ptr<Connection>(c)](const beast::error_code& ec) {
        if (auto live = weak.lock(); live && !ec && live->idle) live->close();
    });
}

coordinator::ConnectionRegistry::Callbacks registry_callbacks(const ConnectionPtr& connection, AppState& app) {
    std::weak_ptr<Connection> weak = connection;
    auto executor = connection->stream.get_executor();
    coordinator::ConnectionRegistry::Callbacks callbacks;
    if (!app.faulty(Fault::keep_idle)) {
        callbacks.close_if_idle = [weak, executor, &app] {
            // Counted in flight before the coordinator looks at the count again, and released on the
            // connection's strand unless the connection is fresh and must wait for its first request.
            auto guard = std::make_shared<DrainTracker::Guard>(app.coordinator.drain().track_request());
            net::post(executor, [weak, guard] {
                auto c = weak.lock();
                if (!c || !c->really_idle()) return;
                if (c->carried_request) c->close();
                else hold_for_first_request(c, std::move(*guard));
            });
        };
    }
    callbacks.close_now = [weak, executor] {
        net::post(executor, [weak] {
            if (auto c = weak.lock()) c->close();
        });
    };
    return callbacks;
}

net::awaitable<beast::error_code> write_reply(Connection& c, unsigned version, const Reply& reply, bool announce_close,
                                              coordinator::Duration timeout) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
    res.set(http::field::server, "lastcall-server");
    res.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    res.keep_alive(!announce_close);
    res.body() = reply.body;
    res.prepare_payload();
    c.stream.expires_after(timeout);
    auto [ec, written] = co_await http::async_write(c.stream, res, use_tuple);
    co_return ec;
}

// The status for a request the parser refused, or 0 when the client simply went away.
int status_for_read_error(const beast::error_code& ec) {
    if (ec == http::error::header_limit) return 431;
    if (ec == http::error::body_limit) return 413;
    if (ec == http::error::partial_message || ec == http::error::end_of_stream) return 0;
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) return 400;
    return 0;
}

// Replies built outside coroutines: GCC 12 mis-compiles string literals in braced temporaries
// inside a co_await expression.
Reply error_reply(int status, std::string_view message) {
    return Reply{status, "application/json", fmt::format(R"({{"error":"{}"}})", message), {}};
}
Reply draining_reply() { return Reply{503, "text/plain", "shutting down\n", {{"Retry-After", "1"}}}; }

std::string sse_event(std::string_view event, std::string_view data, std::size_t id) {
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, event, data);
}

// Serves GET /stream. Returns whether the connection may carry another request.
net::awaitable<bool> serve_stream(ConnectionPtr c, AppState& app, const Request& request, unsigned version,
                                  bool client_keep_alive) {
    const auto chunks = int_param(request.target, "chunks", 10, 1, 1'000'000);
    const auto interval_ms = int_param(request.target, "interval_ms", 100, 0, 3'600'000);
    const auto timeout = app.config.header_timeout;
    if (!chunks || !interval_ms) {
        const auto reply = error_reply(400, "bad chunks or interval_ms");
        co_await write_reply(*c, version, reply, true, timeout);
        co_return false;
    }
    std::weak_ptr<Connection> weak = c;
    auto executor = c->stream.get_executor();
    DrainTracker::Guard guard = app.coordinator.drain().track_stream([weak, executor] {
        net::post(executor, [weak] {
            if (auto live = weak.lock()) {
                live->end_stream_requested = true;
                if (live->stream_timer) live->stream_timer->cancel();
            }
        });
    });

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

    net::steady_timer timer(executor);
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
    co_return keep_alive && !app.coordinator.draining();
}

net::awaitable<Reply> handle_safely(AppState& app, Request request) {
    try {
        co_return co_await handle_request(app, request);
    } catch (const std::exception& e) {
        log::error("request failed").field("target", request.target).field("error", e.what());
        co_return error_reply(500, "internal error");
    }
}

net::awaitable<void> serve(ConnectionPtr c, AppState& app, DrainTracker::Guard starting) {
    auto& coordinator = app.coordinator;
    const bool tracking = app.config.tracking;
    coordinator::ConnectionRegistry::Registration registration;
    if (tracking) registration = coordinator.connections().add(registry_callbacks(c, app));
    // From accept to here the connection was counted in flight (`starting`), so draining could not
    // end without it. Registered now, close_idle will see it; if draining has already begun it waits
    // for its first request and answers 503.
    if (starting) {
        if (coordinator.draining()) hold_for_first_request(c, std::move(starting));
        else starting.release();
    }
    // The keep-idle bug, like Node's server.close(): draining waits for every connection to go away.
    DrainTracker::Guard connection_guard;
    if (app.faulty(Fault::keep_idle)) connection_guard = coordinator.drain().track_request();

    for (;;) {
        c->idle = true;
        if (c->buffer.size() == 0) {
            c->stream.expires_after(app.config.idle_timeout);
            auto [ec, n] = co_await c->stream.async_read_some(c->buffer.prepare(8192), use_tuple);
            if (ec) break;
            c->buffer.commit(n);
        }
        c->idle = false;
        c->carried_request = true;

        http::request_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(body_limit);
        c->stream.expires_after(app.config.header_timeout);  // slowloris: the whole request, not each byte
        if (auto [ec, n] = co_await http::async_read(c->stream, c->buffer, parser, use_tuple); ec) {
            if (const int status = status_for_read_error(ec); status != 0 && !c->closed) {
                const auto reply = error_reply(status, ec.message());
                co_await write_reply(*c, 11, reply, true, app.config.header_timeout);
            }
            break;
        }
        auto& req = parser.get();
        if (!coordinator.accepts_new_requests()) {
            coordinator.note_rejected();
            const auto reply = draining_reply();
            co_await write_reply(*c, req.version(), reply, true, app.config.header_timeout);
            break;
        }
        const Request request{req.method_string(), req.target(), req.body()};
        if (is_stream_request(request)) {
            if (co_await serve_stream(c, app, request, req.version(), req.keep_alive())) continue;
            break;
        }
        DrainTracker::Guard guard;
        if (tracking) guard = coordinator.drain().track_request();
        const Reply reply = co_await handle_safely(app, request);
        const bool keep_alive = req.keep_alive() && !coordinator.draining();
        // The no-close-header bug: the response promises keep-alive, then the connection is closed anyway.
        const bool announce_close = !keep_alive && !(app.faulty(Fault::no_close_header) && coordinator.draining());
        const auto ec = co_await write_reply(*c, req.version(), reply, announce_close, app.config.header_timeout);
        guard.release();
        if (ec || !keep_alive) break;
    }
    if (!c->closed) {
        // Half-close first so the client reads the whole response before it sees the end.
        beast::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        c->close();
    }
}

} // namespace

void start_session(tcp::socket socket, AppState& app) {
    auto connection = std::make_shared<Connection>(std::move(socket));
    auto executor = connection->stream.get_executor();
    // Taken here, synchronously, so draining cannot finish between accept and registration.
    DrainTracker::Guard starting;
    if (app.config.tracking && !app.faulty(Fault::keep_idle)) starting = app.coordinator.drain().track_request();
    net::co_spawn(executor, serve(std::move(connection), app, std::move(starting)), [](std::exception_ptr error) {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log::error("connection failed").field("error", e.what());
        }
    });
}

} // namespace lastcall::server
