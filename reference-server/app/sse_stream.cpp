#include "sse_stream.hpp"

#include "http_reply.hpp"
#include "log.hpp"
#include "stream_positions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <random>

namespace lastcall::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using coordinator::DrainTracker;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

std::string tick_event(std::string_view stream, std::uint64_t seq) {
    return fmt::format("id: {}\nevent: tick\ndata: {{\"seq\":{}}}\n\n", format_event_id(stream, seq), seq);
}

// No `id:` line: an event without one leaves the client's last event id at the last tick (WHATWG
// SSE), which is where a reconnection must continue.
std::string end_event(bool by_shutdown, std::uint64_t sent) {
    return fmt::format("event: end\ndata: {{\"reason\":\"{}\",\"events\":{}}}\n\n", by_shutdown ? "shutdown" : "complete", sent);
}

// Unique across restarts, so a position kept by an earlier generation never meets a new stream.
std::string new_stream_name() {
    thread_local std::mt19937_64 random{(std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()};
    return fmt::format("{:016x}", random());
}

// Where this response starts: the rest of a kept stream the client names by its last event id, or
// a new stream. An id nobody kept (or one past what was sent) starts a new stream, as a client
// without Last-Event-ID would get.
struct StreamPlan {
    std::string name;
    StreamPosition position;  // `sent`: the first event this response sends
    bool resumed = false;
};

StreamPlan plan_stream(const StreamPositions& kept, std::string_view last_event_id, std::uint64_t chunks, std::uint64_t interval_ms) {
    if (const auto id = parse_event_id(last_event_id)) {
        if (const auto position = kept.find(id->stream); position && id->seq < position->sent) {
            return {id->stream, {id->seq + 1, position->total, position->interval_ms}, true};
        }
    }
    return {new_stream_name(), {0, chunks, interval_ms}, false};
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

net::awaitable<bool> serve_stream(ConnectionPtr c, const Request& request, std::string_view last_event_id, unsigned version,
                                  bool client_keep_alive, DrainTracker::Guard hold) {
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
    const auto plan = plan_stream(app.streams, last_event_id, static_cast<std::uint64_t>(*chunks), static_cast<std::uint64_t>(*interval_ms));
    if (!last_event_id.empty()) {
        log::info(plan.resumed ? "stream resumed" : "stream not known: started anew")
            .field("last_event_id", std::string(last_event_id.substr(0, 128)))
            .field("stream", plan.name)
            .field("from", plan.position.sent);
    }

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
    const auto total = plan.position.total;
    std::uint64_t next = plan.position.sent;
    const std::uint64_t first = next;
    while (next < total && !c->end_stream_requested && !c->closed) {
        const auto event = tick_event(plan.name, next);
        c->stream.expires_after(timeout);
        if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk(net::buffer(event)), use_tuple); ec) break;
        ++next;
        if (next < total) {
            timer.expires_after(std::chrono::milliseconds(plan.position.interval_ms));
            co_await timer.async_wait(use_tuple);  // cancelled early by an end request or a close
        }
    }
    c->stream_timer = nullptr;
    // Kept before anything else can fail: the checkpoint at shutdown carries what is unfinished.
    if (next < total) app.streams.keep(plan.name, {next, total, plan.position.interval_ms});
    else app.streams.finished(plan.name);
    const auto sent = next - first;
    if (c->closed) co_return false;
    const bool by_shutdown = c->end_stream_requested;
    if (by_shutdown && app.faulty(Fault::truncate_streams)) {
        c->close();  // the bug: cut without end event or terminator
        co_return false;
    }
    const auto end = end_event(by_shutdown, sent);
    c->stream.expires_after(timeout);
    if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk(net::buffer(end)), use_tuple); ec) co_return false;
    if (auto [ec, n] = co_await net::async_write(c->stream, http::make_chunk_last(), use_tuple); ec) co_return false;
    // The head promised keep-alive: a request may follow at once, so a draining server lingers for
    // it (held before the stream's own guard goes) instead of closing under it.
    if (keep_alive && app.coordinator.draining()) c->linger(app.coordinator.drain().hold());
    co_return keep_alive;
}

} // namespace lastcall::server
