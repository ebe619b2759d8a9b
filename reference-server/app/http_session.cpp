#include "http_session.hpp"

#include "connection.hpp"
#include "http_reply.hpp"
#include "idle_wait.hpp"
#include "log.hpp"
#include "request_rules.hpp"
#include "routes.hpp"
#include "sse_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <sys/socket.h>
#include <memory>
#include <utility>

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
// After the last response, how long unread input is drained before the socket closes.
constexpr auto lingering_close_limit = std::chrono::seconds(2);

// The fields' memory from the thread's BlockCache: a parser's fields go with every request.
using Parser = http::request_parser<http::string_body, CachedAllocator<char>>;

// Takes the next request's bytes if they have already arrived (a busy keep-alive connection):
// one recv, as a read would, and no round trip through the reactor that a wait costs. A plain
// function, so its buffer is on the stack, not in a coroutine frame. False when nothing was there
// (or the peer closed: the wait then sees that at once).
bool take_arrived_bytes(Connection& c) {
    char bytes[4096];
    const auto n = ::recv(c.stream.socket().native_handle(), bytes, sizeof bytes, MSG_DONTWAIT);
    c.kernel_drained = n < static_cast<ssize_t>(sizeof bytes);
    if (n <= 0) return false;
    const auto size = static_cast<std::size_t>(n);
    net::buffer_copy(c.buffer.prepare(size), net::buffer(bytes, size));
    c.buffer.commit(size);
    return true;
}

// "HTTP/2.0" and the like: a well-formed version this server does not speak (RFC 9110 15.6.6).
bool other_major_version(const ReadBuffer& buffer) {
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    const auto line = bytes.substr(0, bytes.find("\r\n"));
    const auto version = line.substr(line.rfind(' ') + 1);
    return version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
           version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7])) && version[5] != '1';
}

// The status for a request the parser refused, or 0 when the client simply went away.
int status_for_read_error(const beast::error_code& ec, const Parser& parser, const ReadBuffer& buffer) {
    // Beast parses the request line as soon as it is whole: no target yet means the line itself
    // ran past the limit (RFC 9112 3: 414), otherwise the fields did (RFC 6585: 431).
    if (ec == http::error::header_limit) return parser.get().target().empty() ? 414 : 431;
    if (ec == http::error::body_limit) return 413;
    if (ec == http::error::bad_version && other_major_version(buffer)) return 505;
    if (ec == http::error::partial_message || ec == http::error::end_of_stream) return 0;
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) return 400;
    return 0;
}

// The head from bytes already read, as async_read_header parses them before it reads (the same
// parser calls, so the same errors), without its round trip through the scheduler: a whole head in
// the buffer is the common case on a busy connection. need_more: the rest must be read.
beast::error_code parse_buffered_head(Parser& parser, ReadBuffer& buffer) {
    parser.eager(false);
    beast::error_code ec;
    while (buffer.size() > 0 && !parser.is_header_done()) {
        const auto used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec || used == 0) break;  // need_more: a part of the head, the rest is for the read
    }
    if (parser.is_header_done()) return {};
    return ec ? ec : beast::error_code(http::error::need_more);
}

// The head as request_rules sees it, for the judgement at once (it points into `req`). Its field
// list is one per thread, kept from request to request: no allocation each.
const RequestHead& head_of(const Parser::value_type& req) {
    thread_local RequestHead head;
    head.method = req.method_string();
    head.target = req.target();
    head.version = req.version();
    head.fields.clear();
    for (const auto& field : req) head.fields.emplace_back(field.name_string(), field.value());
    return head;
}

Reply answer_safely(AppState& app, const Request& request) {
    try {
        return answer_at_once(app, request);
    } catch (const std::exception& e) {
        log::error("request failed").field("target", request.target).field("error", e.what());
        return error_reply(500, "internal error");
    }
}

net::awaitable<Reply> handle_safely(AppState& app, Request request) {
    try {
        co_return co_await handle_request(app, request);
    } catch (const std::exception& e) {
        log::error("request failed").field("target", request.target).field("error", e.what());
        co_return error_reply(500, "internal error");
    }
}

// The normal end: half-close so the client reads the whole response before it sees the end. If it
// sent more than was read (a body not read, a pipelined request), read and drop that (bounded)
// first: closing with unread input makes the kernel send a reset, which can destroy a response
// still in flight (nginx's lingering_close). Otherwise close at once: a descriptor held for
// nothing is one less to accept with when they run short.
net::awaitable<void> finish(Connection& c) {
    if (c.closed) co_return;
    beast::error_code ec;
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (c.buffer.size() == 0 && c.stream.socket().available(ec) == 0) {
        c.close();
        co_return;
    }
    c.stream.expires_after(lingering_close_limit);
    char sink[4096];
    while (!ec && !c.closed) {
        std::tie(ec, std::ignore) = co_await c.stream.async_read_some(net::buffer(sink), use_tuple);
    }
    c.close();
}

void log_failure(std::exception_ptr error) {
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log::error("connection failed").field("error", e.what());
    }
}

// Once the reply is made: whether the connection stays open, and whether the reply says it closes.
struct Closing {
    bool keep_alive;
    bool announce_close;
};
Closing closing_after(AppState& app, bool client_keeps_alive) {
    const bool keep_alive = client_keeps_alive && !app.coordinator.draining();
    // The no-close-header bug: the response promises keep-alive, then the connection is closed anyway.
    return {keep_alive, !keep_alive && !(app.faulty(Fault::no_close_header) && app.coordinator.draining())};
}

// Once the reply is written (or not: `written` is the error): true when the connection stays open
// for the next request. The request's guard goes here.
bool after_reply(Connection& c, const beast::error_code& written, bool keep_alive, DrainTracker::Guard& guard) {
    auto& app = c.app;
    if (written) app.metrics.note_dropped();
    // Promised keep-alive, but draining began meanwhile: the next request may already be on its
    // way. Held before the request's own guard goes, so draining cannot end in between.
    if (!written && keep_alive && app.coordinator.draining() && !app.faulty(Fault::keep_idle)) {
        c.linger(app.coordinator.drain().hold());
    }
    guard.release();
    return !written && keep_alive;
}

// One request on a connection whose first bytes are in its buffer: read, judged, answered. True
// when the connection stays open for the next one. A coroutine of its own, so that its frame (the
// parser, the guards) exists only while a request is being served: an idle connection holds
// serve()'s small frame only.
net::awaitable<bool> serve_request(const ConnectionPtr& c) {
    auto& app = c->app;
    auto& coordinator = app.coordinator;
    const bool tracking = app.config.tracking;

    Parser parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    c->request_started = true;  // its first bytes are here (or the peer's end): not idle for the linger
    auto ec = parse_buffered_head(parser, c->buffer);
    if (ec == http::error::need_more) {
        c->stream.expires_after(app.config.header_timeout);  // slowloris: the whole request, not each byte
        std::tie(ec, std::ignore) = co_await http::async_read_header(c->stream, c->buffer, parser, use_tuple);
    }
    if (ec) {
        if (const int status = status_for_read_error(ec, parser, c->buffer); status != 0 && !c->closed) {
            co_await write_reply(*c, error_reply(status, ec.message()), {11, true, false});
        }
        co_return false;
    }
    // Between requests until a head is in: draining that begins while one is still being read
    // lingers for it (a connection whose bytes are on their way is not idle, so it is not closed),
    // and holds draining open until the head is in and the request holds it itself.
    c->head_read = true;
    c->idle = false;
    const auto head_in = std::chrono::steady_clock::now();  // /metrics: a request's time starts with its head
    auto& req = parser.get();
    const auto verdict = judge_request(head_of(req));
    if (verdict.status != 0) {
        // Closed after the answer: the body (if any) was not read, or the framing is not trusted.
        co_await write_reply(*c, error_reply(verdict.status, verdict.reason), {req.version(), true, false});
        co_return false;
    }
    // Held across the check, so that draining cannot begin and also end between the check and
    // the guard below; it also covers the 503's write.
    DrainTracker::Guard boundary_hold;
    if (tracking) boundary_hold = coordinator.drain().hold();
    if (!coordinator.accepts_new_requests()) {
        // The body, if any, is dropped by the lingering close. The no-close-header bug omits
        // the announcement here too, and closes anyway.
        coordinator.note_rejected();
        app.metrics.note_rejected();
        const bool announce = !app.faulty(Fault::no_close_header);
        app.metrics.record(RequestMetrics::route_of(req.method_string(), path_of(verdict.target)), 503, std::chrono::steady_clock::now() - head_in);
        if (co_await write_reply(*c, draining_reply(), {req.version(), announce, false})) app.metrics.note_dropped();
        co_return false;
    }
    const bool head_only = req.method() == http::verb::head;
    const auto method = head_only ? std::string_view("GET") : std::string_view(req.method_string());
    const bool stream = !head_only && is_stream_request(Request{method, verdict.target, {}});
    // In flight from the moment its head is accepted, so that draining waits for its body too.
    // A stream is tracked as a stream by serve_stream, which takes over the hold.
    DrainTracker::Guard guard;
    if (tracking && !stream) guard = coordinator.drain().track_request();
    if (!stream) boundary_hold.release();
    if (!parser.is_done()) {
        if (verdict.expect_continue && co_await write_continue(*c)) co_return false;
        c->stream.expires_after(app.config.header_timeout);
        if (auto [body_ec, n] = co_await http::async_read(c->stream, c->buffer, parser, use_tuple); body_ec) {
            if (const int status = status_for_read_error(body_ec, parser, c->buffer); status != 0 && !c->closed) {
                co_await write_reply(*c, error_reply(status, body_ec.message()), {req.version(), true, false});
            }
            co_return false;
        }
    }
    const Request request{method, verdict.target, req.body()};
    if (stream) {
        // A stream's time is its whole life; it was answered 200 (its end, clean or not, is in the body).
        const bool open = co_await serve_stream(c, request, req["Last-Event-ID"], req.version(), req.keep_alive(), std::move(boundary_hold));
        app.metrics.record(RequestMetrics::Route::stream, 200, std::chrono::steady_clock::now() - head_in);
        co_return open;
    }
    const Reply reply = co_await handle_safely(app, request);
    const auto closing = closing_after(app, req.keep_alive());
    // Counted before the write: once the client has its response, /metrics already shows it.
    app.metrics.record(RequestMetrics::route_of(method, path_of(verdict.target)), reply.status, std::chrono::steady_clock::now() - head_in);
    const auto written = co_await write_reply(*c, reply, {req.version(), closing.announce_close, head_only});
    co_return after_reply(*c, written, closing.keep_alive, guard);
}

enum class AtOnce {
    not_at_once,  // nothing taken or changed: serve_request serves it
    kept_alive,   // served; the connection stays open
    ended,        // served (or its write failed); the connection ends
    writing,      // the socket did not take the whole reply: a coroutine writes the rest and goes on
};

void serve_in_hand(const ConnectionPtr& c, bool arrived);
net::awaitable<void> write_rest_then_go_on(ConnectionPtr c, std::string rest, bool keep_alive, DrainTracker::Guard guard);

// The common request served with no coroutine, no frame and no trip through the scheduler: its
// head is whole in the buffer, it has no body, the rules accept it, it is not a stream, its route
// answers at once (routes.hpp: waits) and the server accepts requests. Then the same steps as
// serve_request, in the same order. Any other request is left untouched (its bytes still in the
// buffer, no flag or guard changed) for serve_request: 400s, bodies, 503s, delays, streams (their
// head is parsed again there, a small cost beside what they wait for).
AtOnce serve_at_once(const ConnectionPtr& c) {
    auto& app = c->app;
    auto& coordinator = app.coordinator;
    Parser parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    parser.eager(false);
    beast::error_code ec;
    const auto used = parser.put(c->buffer.data(), ec);  // a whole head is parsed in one call
    if (ec || !parser.is_done()) return AtOnce::not_at_once;
    const auto head_in = std::chrono::steady_clock::now();
    const auto& req = parser.get();
    const auto verdict = judge_request(head_of(req));
    if (verdict.status != 0) return AtOnce::not_at_once;
    const bool head_only = req.method() == http::verb::head;
    const Request request{head_only ? std::string_view("GET") : std::string_view(req.method_string()), verdict.target, req.body()};
    if ((!head_only && is_stream_request(request)) || waits(request)) return AtOnce::not_at_once;
    DrainTracker::Guard boundary_hold;  // as in serve_request: across the check and the guard
    if (app.config.tracking) boundary_hold = coordinator.drain().hold();
    if (!coordinator.accepts_new_requests()) return AtOnce::not_at_once;  // the 503 is serve_request's
    c->buffer.consume(used);
    c->request_started = true;
    c->head_read = true;
    c->idle = false;
    DrainTracker::Guard guard;
    if (app.config.tracking) guard = coordinator.drain().track_request();
    boundary_hold.release();
    const Reply reply = answer_safely(app, request);
    const auto closing = closing_after(app, req.keep_alive());
    app.metrics.record(RequestMetrics::route_of(request.method, path_of(verdict.target)), reply.status, std::chrono::steady_clock::now() - head_in);
    // Built in a string kept by the thread (given back when a big reply, /metrics or /set, grew it).
    thread_local std::string bytes;
    bytes.clear();
    append_reply_bytes(bytes, reply, {req.version(), closing.announce_close, head_only});
    const auto sent = send_at_once(*c, bytes);
    const bool whole = sent.ec || sent.bytes == bytes.size();
    std::string rest = whole ? std::string() : bytes.substr(sent.bytes);
    if (bytes.capacity() > 64 * 1024) bytes = std::string();
    if (!whole) {
        net::co_spawn(c->stream.get_executor(), write_rest_then_go_on(c, std::move(rest), closing.keep_alive, std::move(guard)), log_failure);
        return AtOnce::writing;
    }
    if (!sent.ec) c->served = true;
    return after_reply(*c, sent.ec, closing.keep_alive, guard) ? AtOnce::kept_alive : AtOnce::ended;
}

net::awaitable<void> finish_owned(ConnectionPtr c) { co_await finish(*c); }
void start_finish(const ConnectionPtr& c) { net::co_spawn(c->stream.get_executor(), finish_owned(c), log_failure); }
void request_came(const ConnectionPtr& c) { serve_in_hand(c, true); }

// A request serve_at_once left: served by a coroutine, after which the connection goes on as
// before (the next request at once, or the idle wait).
net::awaitable<void> serve_with_coroutine(ConnectionPtr c) {
    const bool open = co_await serve_request(c);
    if (open) serve_in_hand(c, false);
    else co_await finish(*c);
    co_return;
}

net::awaitable<void> write_rest_then_go_on(ConnectionPtr c, std::string rest, bool keep_alive, DrainTracker::Guard guard) {
    const auto written = co_await write_rest(*c, rest);
    if (!written) c->served = true;
    if (after_reply(*c, written, keep_alive, guard)) serve_in_hand(c, false);
    else co_await finish(*c);
    co_return;
}

// Requests on a connection for as long as the next one is already there, each at once when it can
// be; then the idle wait. `arrived`: woken by the idle wait, the request is taken at once (the
// peer's end, which take_arrived_bytes cannot tell from nothing, is then seen by the read of
// serve_request).
void serve_in_hand(const ConnectionPtr& c, bool arrived) {
    for (;;) {
        c->idle = true;
        c->head_read = false;
        c->request_started = false;
        if (arrived) {
            take_arrived_bytes(*c);  // woken by them: taken here, the head is parsed without a read op
        } else if (c->buffer.size() == 0 && (c->kernel_drained || !take_arrived_bytes(*c))) {
            // Drained by the last recv: a client that waits for each response (most) has sent
            // nothing since, and a recv would only say so. The wait sees whatever did come.
            if (!c->closed) wait_for_next_request(c, request_came, start_finish);
            return;
        }
        arrived = false;
        AtOnce outcome;
        try {
            outcome = serve_at_once(c);
        } catch (const std::exception& e) {
            // As a coroutine's failure is (log_failure): out of memory costs this connection, not
            // the server. Called from the idle wait's handler, nothing else would catch it.
            log::error("connection failed").field("error", e.what());
            c->close_by_server();
            return;
        }
        switch (outcome) {
        case AtOnce::kept_alive: continue;
        case AtOnce::ended: start_finish(c); return;
        case AtOnce::writing: return;
        case AtOnce::not_at_once: net::co_spawn(c->stream.get_executor(), serve_with_coroutine(c), log_failure); return;
        }
    }
}

net::awaitable<void> serve(ConnectionPtr c, DrainTracker::Guard starting) {
    auto& app = c->app;
    auto& coordinator = app.coordinator;
    if (app.config.tracking) c->registration = coordinator.connections().add(registry_callbacks(c));
    // From accept to here the connection was held in the drain (`starting`), so draining could not
    // end without it. Registered now, on_draining will reach it; if draining has already begun it
    // lingers for its first request, which gets a clean 503 (go#22682: a fresh connection is not idle).
    if (starting) {
        if (coordinator.draining()) c->linger(std::move(starting));
        else starting.release();
    }
    // The keep-idle bug, like Node's server.close(): draining waits for every connection to go away.
    if (app.faulty(Fault::keep_idle)) c->keep_idle_hold = coordinator.drain().hold();
    serve_in_hand(c, false);
    co_return;  // a coroutine still, so that co_spawn's handler logs what this throws
}

} // namespace

void start_session(tcp::socket socket, AppState& app) {
    auto connection = std::make_shared<Connection>(std::move(socket), app);
    auto executor = connection->stream.get_executor();
    // Taken here, synchronously, so draining cannot finish between accept and registration.
    DrainTracker::Guard starting;
    if (app.config.tracking && !app.faulty(Fault::keep_idle)) starting = app.coordinator.drain().hold();
    net::co_spawn(executor, serve(std::move(connection), std::move(starting)), log_failure);
}

} // namespace lastcall::server
