#include "request_exchange.hpp"

#include "json_field.hpp"
#include "sse_parser.hpp"
#include "stream_end.hpp"
#include "stream_trail.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>

#include <optional>

namespace lastcall::harness {

namespace beast = boost::beast;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::size_t read_size = 16 * 1024;
constexpr std::size_t job_body_kept = 4 * 1024;  // a job's id sits at the start of its 202 body

// A stream's body: tokenized as it arrives, judged by today's end convention, never stored. With a
// trail, each event's id is noted on the way (stream.resume).
struct StreamBody final : BodySink {
    explicit StreamBody(StreamTrail* trail) : ids(convention, trail) {}
    void on_body(std::string_view bytes) override { sse.feed(bytes); }
    EndEventConvention convention;
    EventIdTrail ids;
    SseParser sse{ids};
};

Failure failure_of(const beast::error_code& ec, bool any_bytes) {
    if (ec == beast::error::timeout) return Failure::timeout;
    if (any_bytes) return Failure::eof_mid_response;
    return ec == net::error::eof ? Failure::eof_before_response : Failure::reset;
}

Failure failure_of(ReadError error) {
    switch (error) {
    case ReadError::none: return Failure::none;
    case ReadError::eof_before_response: return Failure::eof_before_response;
    case ReadError::eof_in_head:
    case ReadError::eof_in_body: return Failure::eof_mid_response;
    case ReadError::bad_status_line:
    case ReadError::bad_header:
    case ReadError::unexpected_switch: return Failure::bad_response;
    case ReadError::header_too_large: return Failure::header_too_large;
    case ReadError::bad_length: return Failure::bad_length;
    case ReadError::bad_chunk: return Failure::bad_chunk;
    }
    return Failure::bad_response;
}

// A stream that stopped coming (rather than one that broke the protocol).
bool cut(Failure f) {
    return f == Failure::eof_mid_response || f == Failure::eof_before_response || f == Failure::reset || f == Failure::timeout;
}

std::int64_t micros_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

std::string_view readable(const beast::flat_buffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

} // namespace

std::string wire_request(const Workload& w, const std::string& authority, std::string_view last_event_id) {
    std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lastcall\r\n", w.request.method, w.request.path, authority);
    if (w.kind == WorkloadKind::stream) out += "Accept: text/event-stream\r\n";
    if (!last_event_id.empty()) out += fmt::format("Last-Event-ID: {}\r\n", last_event_id);
    if (!w.keep_alive) out += "Connection: close\r\n";
    for (const auto& [name, value] : w.request.headers) out += fmt::format("{}: {}\r\n", name, value);
    out += fmt::format("Content-Length: {}\r\n\r\n{}", w.request.body.size(), w.request.body);
    return out;
}

net::awaitable<void> exchange(ClientConnection& c, const ExchangePlan& plan, Clock::time_point run_start, RequestRecord& r,
                              Observation& seen, StreamTrail* trail) {
    c.stream.expires_after(plan.timeout);  // for a request: the whole exchange
    if (auto [ec, n] = co_await net::async_write(c.stream, net::buffer(plan.wire), use_tuple); ec) {
        seen.failure = ec == beast::error::timeout ? Failure::timeout : Failure::write_error;
        co_return;
    }
    std::optional<StreamBody> stream_body;
    std::optional<BodyPrefix> job_body;
    BodySink* sink = nullptr;
    if (plan.kind == WorkloadKind::stream) sink = &stream_body.emplace(trail);
    if (plan.kind == WorkloadKind::job) sink = &job_body.emplace(job_body_kept);
    auto& reader = c.reader;
    reader.begin(plan.head_request, sink);

    beast::error_code read_ec;
    for (;;) {
        if (c.buffer.size() > 0) {
            if (r.first_byte_us < 0) r.first_byte_us = micros_since(run_start);
            c.buffer.consume(reader.feed(readable(c.buffer)));
            if (reader.done() || reader.failed()) break;
        }
        if (read_ec) {
            if (read_ec == net::error::eof) reader.feed_eof();  // a body delimited by the close ends here
            break;
        }
        if (stream_body) c.stream.expires_after(plan.timeout);  // a stream's timeout is an idle limit
        auto [ec, n] = co_await c.stream.async_read_some(c.buffer.prepare(read_size), use_tuple);
        c.buffer.commit(n);
        read_ec = ec;
    }

    const auto& head = reader.head();
    r.status = static_cast<std::uint16_t>(head.status);
    seen.status = head.status;
    if (reader.head_done()) {
        r.connection_close = !head.keep_alive;
        r.retry_after_s = head.retry_after_s;
    }
    seen.complete = reader.done();
    seen.response_bytes = reader.received_bytes();
    r.bytes = seen.complete ? reader.wire_bytes() : reader.received_bytes();
    r.body_bytes = reader.body_bytes();
    if (!seen.complete) {
        seen.failure = reader.failed() ? failure_of(reader.error()) : failure_of(read_ec, seen.response_bytes > 0);
    } else if (c.buffer.size() > 0) {
        r.unsolicited_after = true;  // bytes beyond the response: there was no request for them
        r.closed_after_us = micros_since(run_start);
    }
    if (stream_body && reader.head_done() && head.status / 100 == 2) {
        r.events = stream_body->convention.events();
        r.stream_end = stream_body->convention.end();
        seen.stream_end = r.stream_end;
        if (seen.complete && r.stream_end == StreamEnd::none) seen.failure = Failure::truncated_stream;
        if (!seen.complete && cut(seen.failure)) seen.failure = Failure::truncated_stream;
    }
    if (job_body && seen.complete && r.status == 202) r.job_id = json_int_field(job_body->text(), "id").value_or(-1);
}

net::awaitable<void> drip_headers(const Workload& spec, ClientConnection& c, Observation& seen) {
    seen.is_slowloris = true;
    const auto deadline = Clock::now() + spec.timeout;
    const auto drip = std::max<std::chrono::nanoseconds>(spec.think, std::chrono::milliseconds(100));
    const std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: lastcall\r\n", spec.request.method, spec.request.path);
    const std::string line = "X-Slow: 1\r\n";
    c.stream.expires_after(spec.timeout);
    auto [ec, n] = co_await net::async_write(c.stream, net::buffer(head), use_tuple);
    while (!ec && Clock::now() < deadline) {
        // Wait for the next drip, or for the server to close (a read completes on FIN or RST).
        c.stream.expires_after(drip);
        char byte;
        auto [read_ec, read_n] = co_await c.stream.async_read_some(net::buffer(&byte, 1), use_tuple);
        if (read_ec != beast::error::timeout) {
            ec = read_ec ? read_ec : beast::error_code(net::error::eof);
            break;
        }
        c.stream.expires_after(spec.timeout);
        std::tie(ec, n) = co_await net::async_write(c.stream, net::buffer(line), use_tuple);
    }
    seen.failure = !ec ? Failure::timeout : failure_of(ec, false);
}

} // namespace lastcall::harness
