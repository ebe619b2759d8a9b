#include "load_generator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <charconv>
#include <optional>
#include <thread>
#include <unordered_set>

namespace lastcall::harness {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::int64_t max_outstanding_per_thread = 20000;

std::string wire_request(const Workload& w, const std::string& host, std::uint16_t port) {
    std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: lastcall\r\n", w.request.method, w.request.path,
                                  host, port);
    if (w.kind == WorkloadKind::stream) out += "Accept: text/event-stream\r\n";
    if (!w.keep_alive) out += "Connection: close\r\n";
    for (const auto& [name, value] : w.request.headers) out += fmt::format("{}: {}\r\n", name, value);
    out += fmt::format("Content-Length: {}\r\n\r\n{}", w.request.body.size(), w.request.body);
    return out;
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

Failure failure_of(const beast::error_code& ec, bool any_bytes) {
    if (ec == beast::error::timeout) return Failure::timeout;
    if (ec == http::error::end_of_stream || ec == net::error::eof) {
        return any_bytes ? Failure::eof_mid_response : Failure::eof_before_response;
    }
    if (ec == http::error::partial_message) return Failure::eof_mid_response;
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe) {
        return any_bytes ? Failure::eof_mid_response : Failure::reset;
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) return Failure::bad_response;
    return any_bytes ? Failure::eof_mid_response : Failure::reset;
}

// Counts SSE events and reads the reason of the last `end` event.
void read_stream_body(const std::string& body, RequestRecord& r) {
    std::size_t pos = 0;
    while ((pos = body.find("event: ", pos)) != std::string::npos) {
        ++r.events;
        pos += 7;
    }
    const auto end = body.rfind("event: end\n");
    if (end == std::string::npos) return;
    const auto data = body.substr(end, body.find("\n\n", end) - end);
    if (data.find(R"("reason":"shutdown")") != std::string::npos) r.stream_end = StreamEnd::shutdown;
    else if (data.find(R"("reason":"complete")") != std::string::npos) r.stream_end = StreamEnd::complete;
    else r.stream_end = StreamEnd::other;
}

std::int64_t job_id_of(const std::string& body) {
    const auto at = body.find(R"("id":)");
    if (at == std::string::npos) return -1;
    std::int64_t id = -1;
    std::from_chars(body.data() + at + 5, body.data() + body.size(), id);
    return id;
}

struct ClientConnection {
    explicit ClientConnection(net::io_context& io) : stream(io) {}
    void close() {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        open = false;
    }
    // A close the server already sent (EOF waiting in the socket): real clients reconnect instead
    // of sending into it, so only requests that truly cross the close count as idle_close_race.
    bool peer_closed() {
        beast::error_code ec;
        const auto waiting = stream.socket().available(ec);
        if (ec) return true;
        if (waiting > 0) return false;
        char byte;
        const auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::uint32_t id = 0;
    std::uint32_t uses = 0;
    bool open = false;
    std::size_t last_record = SIZE_MAX;  // index in the worker's records of this connection's last response
};

struct WorkloadState {
    const Workload* spec = nullptr;
    std::uint16_t index = 0;
    std::string wire;
    int connections = 0;      // this thread's share
    double rate = 0;          // this thread's share, per second
    std::optional<std::uint64_t> max_requests;
    std::uint64_t started = 0;
    bool active = false;
    bool done = false;        // stopped (stop time or stop_load) before or after it started
    std::vector<std::unique_ptr<ClientConnection>> idle;  // open loop's keep-alive pool
};

struct alignas(64) LiveCounters {
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::int64_t> running_loops{0};
    std::atomic<std::int64_t> pending_starts{0};  // workloads whose start time has not come yet
    std::atomic<std::uint64_t> completed{0};
    std::array<std::atomic<std::uint64_t>, outcome_count> by_outcome{};
};

} // namespace

struct LoadGenerator::Worker {
    Worker(int i, const LoadGenerator& owner) : index(i), generator(owner), work(net::make_work_guard(io)) {}

    net::awaitable<void> run_one(WorkloadState& ws, ClientConnection& c, SteadyTime intended);
    net::awaitable<RequestRecord> perform(WorkloadState& ws, ClientConnection& c, SteadyTime intended);
    net::awaitable<void> drip_headers(WorkloadState& ws, ClientConnection& c, Observation& seen);
    net::awaitable<void> closed_loop(WorkloadState& ws);
    net::awaitable<void> open_loop(WorkloadState& ws);
    net::awaitable<void> open_request(WorkloadState& ws, SteadyTime intended);
    void activate(WorkloadState& ws);
    void deactivate(WorkloadState& ws) {
        ws.active = false;
        ws.done = true;
    }
    bool may_start(const WorkloadState& ws) const {
        return ws.active && !stopping && (!ws.max_requests || ws.started < *ws.max_requests);
    }
    std::int64_t since_start_us(SteadyTime t) const {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - generator.options_.run_start).count();
    }
    void spawn(net::awaitable<void> task) { net::co_spawn(io, std::move(task), [](std::exception_ptr) {}); }

    int index;
    const LoadGenerator& generator;
    net::io_context io{1};
    net::executor_work_guard<net::io_context::executor_type> work;
    std::thread thread;
    tcp::endpoint endpoint;
    std::vector<WorkloadState> workloads;
    std::vector<RequestRecord> records;
    Histogram latency;
    LiveCounters live;
    std::unordered_set<ClientConnection*> connections;
    std::uint64_t next_id = 1;
    std::uint32_t next_connection = 1;
    bool stopping = false;
    bool cut = false;  // finish() ran out of grace: what fails now was cut by the harness
};

net::awaitable<RequestRecord> LoadGenerator::Worker::perform(WorkloadState& ws, ClientConnection& c, SteadyTime intended) {
    const auto& spec = *ws.spec;
    RequestRecord r;
    r.id = (next_id++ << 8) | static_cast<std::uint64_t>(index);
    r.workload = ws.index;
    r.intended_us = since_start_us(intended);
    Observation seen;
    seen.is_stream = spec.kind == WorkloadKind::stream;
    const auto finish = [&] {
        r.done_us = since_start_us(Clock::now());
        const auto killed_at = generator.killed_at_us_.load(std::memory_order_relaxed);
        seen.target_killed_meanwhile = cut || (killed_at >= 0 && r.sent_us >= 0 && r.sent_us <= killed_at);
        seen.closed_after_send_us = r.sent_us >= 0 ? r.done_us - r.sent_us : 0;
        r.outcome = classify(seen);
        r.failure = seen.failure;
        if (!seen.complete && c.open) c.close();
    };

    if (c.open && c.peer_closed()) {
        if (c.last_record < records.size()) records[c.last_record].closed_after = true;
        c.close();
    }
    if (!c.open) {
        c.stream.expires_after(spec.timeout);
        auto [ec] = co_await c.stream.async_connect(endpoint, use_tuple);
        if (ec) {
            seen.failure = ec == net::error::connection_refused ? Failure::connect_refused : Failure::connect_error;
            c.stream.close();
            finish();
            co_return r;
        }
        c.stream.socket().set_option(tcp::no_delay(true));
        c.open = true;
        c.id = next_connection++;
        c.uses = 0;
        c.buffer.clear();
    }
    r.connection_id = c.id;
    r.reuse_index = c.uses++;
    seen.reused_connection = r.reuse_index > 0;
    r.sent_us = since_start_us(Clock::now());
    if (spec.kind == WorkloadKind::slowloris) {
        co_await drip_headers(ws, c, seen);
        finish();
        if (c.open) c.close();
        co_return r;
    }
    c.stream.expires_after(spec.timeout);
    if (auto [ec, n] = co_await net::async_write(c.stream, net::buffer(ws.wire), use_tuple); ec) {
        seen.failure = ec == beast::error::timeout ? Failure::timeout : Failure::write_error;
        finish();
        co_return r;
    }
    if (c.buffer.size() == 0) {
        auto [ec, n] = co_await c.stream.async_read_some(c.buffer.prepare(16 * 1024), use_tuple);
        if (ec) {
            seen.failure = failure_of(ec, false);
            finish();
            co_return r;
        }
        c.buffer.commit(n);
    }
    r.first_byte_us = since_start_us(Clock::now());
    seen.response_bytes = c.buffer.size();

    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code ec;
    if (auto [header_ec, n] = co_await http::async_read_header(c.stream, c.buffer, parser, use_tuple); header_ec) {
        ec = header_ec;
    } else if (seen.is_stream) {
        // Stream: the timeout is per read (an idle limit), not for the whole stream.
        while (!parser.is_done()) {
            c.stream.expires_after(spec.timeout);
            auto [read_ec, read_n] = co_await http::async_read_some(c.stream, c.buffer, parser, use_tuple);
            if (read_ec) {
                ec = read_ec;
                break;
            }
        }
    } else {
        auto [body_ec, body_n] = co_await http::async_read(c.stream, c.buffer, parser, use_tuple);
        ec = body_ec;
    }
    if (parser.is_header_done()) {
        const auto& res = parser.get();
        r.status = static_cast<std::uint16_t>(res.result_int());
        r.connection_close = !res.keep_alive();
        if (const auto retry_after = res.find(http::field::retry_after); retry_after != res.end()) {
            std::int16_t seconds = -1;
            const auto value = retry_after->value();
            std::from_chars(value.data(), value.data() + value.size(), seconds);
            r.retry_after_s = seconds;
        }
        seen.status = r.status;
    }
    r.bytes = static_cast<std::uint32_t>(std::min<std::size_t>(parser.get().body().size() + seen.response_bytes, UINT32_MAX));
    seen.complete = !ec && parser.is_done();
    if (ec) seen.failure = failure_of(ec, true);
    if (seen.is_stream && parser.is_header_done()) {
        read_stream_body(parser.get().body(), r);
        seen.stream_end = r.stream_end;
        if (seen.complete && r.stream_end == StreamEnd::none) seen.failure = Failure::truncated_stream;
        if (!seen.complete) seen.failure = Failure::truncated_stream;
    }
    if (spec.kind == WorkloadKind::job && r.status == 202) r.job_id = job_id_of(parser.get().body());
    finish();
    if (c.open && (r.connection_close || !spec.keep_alive)) c.close();
    co_return r;
}

// Slowloris: the request line, then one header line per `think` (at least 100 ms), never the blank
// line that ends the headers, until the server cuts the connection or `timeout` runs out.
net::awaitable<void> LoadGenerator::Worker::drip_headers(WorkloadState& ws, ClientConnection& c, Observation& seen) {
    const auto& spec = *ws.spec;
    seen.is_slowloris = true;
    const auto deadline = Clock::now() + spec.timeout;
    const auto drip = std::max<std::chrono::nanoseconds>(spec.think, std::chrono::milliseconds(100));
    const std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: lastcall\r\n", spec.request.method, spec.request.path);
    const std::string line = "X-Slow: 1\r\n";
    net::steady_timer timer(io);
    c.stream.expires_after(spec.timeout);
    auto [ec, n] = co_await net::async_write(c.stream, net::buffer(head), use_tuple);
    while (!ec && Clock::now() < deadline) {
        // Wait for the next drip, or for the server to close (a read completes on FIN or RST).
        timer.expires_after(drip);
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

net::awaitable<void> LoadGenerator::Worker::run_one(WorkloadState& ws, ClientConnection& c, SteadyTime intended) {
    live.in_flight.fetch_add(1, std::memory_order_relaxed);
    ++ws.started;
    std::uint64_t retry_of = 0;
    for (int attempt = 0;; ++attempt) {
        auto r = co_await perform(ws, c, intended);
        r.retry_of = retry_of;
        const bool retry = attempt == 0 && r.outcome == Outcome::idle_close_race &&
                           ws.spec->client_retry == ClientRetry::idempotent && idempotent(ws.spec->request.method);
        r.retried = retry;
        if (r.outcome == Outcome::ok) latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_us - r.intended_us)) * 1000);
        live.by_outcome[static_cast<int>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
        if (r.outcome == Outcome::idle_close_race && c.last_record < records.size()) records[c.last_record].closed_after = true;
        c.last_record = c.open ? records.size() : SIZE_MAX;
        records.push_back(r);
        if (!retry) break;
        retry_of = r.id;  // retried at once on a fresh connection, as HTTP clients do
    }
    live.completed.fetch_add(1, std::memory_order_relaxed);
    live.in_flight.fetch_sub(1, std::memory_order_release);  // publishes the record to peek_job_ids()
}

net::awaitable<void> LoadGenerator::Worker::closed_loop(WorkloadState& ws) {
    live.running_loops.fetch_add(1);
    ClientConnection c(io);
    connections.insert(&c);
    net::steady_timer think(io);
    while (may_start(ws)) {
        const auto refused_before = live.by_outcome[static_cast<int>(Outcome::rejected)].load(std::memory_order_relaxed);
        co_await run_one(ws, c, Clock::now());
        // After a refused connect, wait at least 10 ms like a client with backoff: no connect storm.
        const bool refused = !c.open && live.by_outcome[static_cast<int>(Outcome::rejected)].load(std::memory_order_relaxed) != refused_before;
        const auto pause = refused ? std::max<std::chrono::nanoseconds>(ws.spec->think, std::chrono::milliseconds(10)) : ws.spec->think;
        if (pause > std::chrono::nanoseconds::zero() && may_start(ws)) {
            think.expires_after(pause);
            co_await think.async_wait(use_tuple);
        }
    }
    connections.erase(&c);
    if (c.open) c.close();
    live.running_loops.fetch_sub(1);
}

net::awaitable<void> LoadGenerator::Worker::open_request(WorkloadState& ws, SteadyTime intended) {
    std::unique_ptr<ClientConnection> c;
    if (!ws.idle.empty()) {
        c = std::move(ws.idle.back());
        ws.idle.pop_back();
    } else {
        c = std::make_unique<ClientConnection>(io);
    }
    connections.insert(c.get());
    co_await run_one(ws, *c, intended);
    connections.erase(c.get());
    if (c->open && !stopping) ws.idle.push_back(std::move(c));
}

net::awaitable<void> LoadGenerator::Worker::open_loop(WorkloadState& ws) {
    live.running_loops.fetch_add(1);
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / ws.rate));
    // Threads interleave their schedules so the merged arrivals are evenly spaced.
    auto next = Clock::now() + interval * index / std::max<std::size_t>(1, generator.workers_.size());
    net::steady_timer timer(io);
    while (may_start(ws)) {
        timer.expires_at(next);
        co_await timer.async_wait(use_tuple);
        if (!may_start(ws)) break;
        if (live.in_flight.load(std::memory_order_relaxed) < max_outstanding_per_thread) spawn(open_request(ws, next));
        next += interval;  // the schedule never slips: a late request keeps its intended time
    }
    for (auto& c : ws.idle) c->close();
    ws.idle.clear();
    live.running_loops.fetch_sub(1);
}

void LoadGenerator::Worker::activate(WorkloadState& ws) {
    if (ws.active || stopping) return;
    ws.active = true;
    ws.done = false;
    if (ws.spec->mode == LoadMode::closed) {
        for (int i = 0; i < ws.connections; ++i) spawn(closed_loop(ws));
    } else if (ws.rate > 0) {
        spawn(open_loop(ws));
    }
}

LoadGenerator::LoadGenerator(std::vector<Workload> workloads, LoadOptions options)
    : workloads_(std::move(workloads)), options_(std::move(options)) {
    const int threads = std::max(1, options_.threads);
    const tcp::endpoint endpoint(net::ip::make_address(options_.host), options_.port);
    for (int t = 0; t < threads; ++t) {
        auto worker = std::make_unique<Worker>(t, *this);
        worker->endpoint = endpoint;
        worker->records.reserve(options_.expected_records / static_cast<std::size_t>(threads) + 1024);
        for (std::size_t i = 0; i < workloads_.size(); ++i) {
            const auto& spec = workloads_[i];
            WorkloadState ws;
            ws.spec = &spec;
            ws.index = static_cast<std::uint16_t>(i);
            ws.wire = wire_request(spec, options_.host, options_.port);
            ws.connections = spec.connections / threads + (t < spec.connections % threads ? 1 : 0);
            ws.rate = spec.rate / threads;
            if (spec.max_requests) {
                ws.max_requests = *spec.max_requests / static_cast<std::uint64_t>(threads) +
                                  (static_cast<std::uint64_t>(t) < *spec.max_requests % static_cast<std::uint64_t>(threads) ? 1 : 0);
            }
            worker->workloads.push_back(std::move(ws));
        }
        worker->live.pending_starts = static_cast<std::int64_t>(workloads_.size());
        workers_.push_back(std::move(worker));
    }
}

LoadGenerator::~LoadGenerator() {
    if (!finished_) finish(std::chrono::seconds(0));
}

void LoadGenerator::start() {
    for (auto& worker : workers_) {
        Worker* w = worker.get();
        net::post(w->io, [w, start = options_.run_start] {
            for (auto& ws : w->workloads) {
                auto timer = std::make_shared<net::steady_timer>(w->io, start + ws.spec->start);
                timer->async_wait([w, &ws, timer](const beast::error_code& ec) {
                    w->live.pending_starts.fetch_sub(1);
                    if (!ec && !ws.done) w->activate(ws);
                });
                if (ws.spec->stop) {
                    auto stop_timer = std::make_shared<net::steady_timer>(w->io, start + *ws.spec->stop);
                    stop_timer->async_wait([w, &ws, stop_timer](const beast::error_code& ec) {
                        if (!ec) w->deactivate(ws);
                    });
                }
            }
        });
        w->thread = std::thread([w] { w->io.run(); });
    }
}

void LoadGenerator::stop(const std::vector<std::string>& names) {
    for (auto& worker : workers_) {
        Worker* w = worker.get();
        net::post(w->io, [w, names] {
            for (auto& ws : w->workloads) {
                if (names.empty() || std::find(names.begin(), names.end(), ws.spec->name) != names.end()) w->deactivate(ws);
            }
        });
    }
}

void LoadGenerator::start_workload(const std::string& name) {
    for (auto& worker : workers_) {
        Worker* w = worker.get();
        net::post(w->io, [w, name] {
            for (auto& ws : w->workloads) {
                if (ws.spec->name == name) {
                    ws.done = false;
                    w->activate(ws);
                }
            }
        });
    }
}

void LoadGenerator::mark_target_killed(SteadyTime when) {
    killed_at_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(when - options_.run_start).count());
}

void LoadGenerator::finish(std::chrono::nanoseconds grace) {
    if (finished_) return;
    finished_ = true;
    for (auto& worker : workers_) {
        Worker* w = worker.get();
        net::post(w->io, [w] {
            w->stopping = true;
            for (auto& ws : w->workloads) ws.active = false;
        });
    }
    // Bounded wait for what is in flight to resolve on its own (the target may still answer).
    const auto deadline = Clock::now() + grace;
    while (live().in_flight > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    for (auto& worker : workers_) {
        Worker* w = worker.get();
        net::post(w->io, [w] {
            w->cut = true;
            for (auto* c : w->connections) c->close();
            w->work.reset();
        });
    }
    for (auto& worker : workers_) {
        if (worker->thread.joinable()) worker->thread.join();
    }
}

LiveCounts LoadGenerator::live() const {
    LiveCounts total;
    for (const auto& w : workers_) {
        total.in_flight += w->live.in_flight.load(std::memory_order_relaxed);
        total.completed += w->live.completed.load(std::memory_order_relaxed);
        for (int i = 0; i < outcome_count; ++i) total.by_outcome[static_cast<std::size_t>(i)] += w->live.by_outcome[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
    }
    return total;
}

bool LoadGenerator::all_workloads_done() const {
    for (const auto& w : workers_) {
        if (w->live.pending_starts.load() > 0 || w->live.running_loops.load() > 0 || w->live.in_flight.load() > 0) return false;
    }
    return true;
}

std::vector<std::int64_t> LoadGenerator::peek_job_ids() const {
    // The workers are idle (all_workloads_done): their records are not being written.
    std::vector<std::int64_t> ids;
    for (const auto& w : workers_) {
        for (const auto& r : w->records) {
            if (r.job_id >= 0) ids.push_back(r.job_id);
        }
    }
    return ids;
}

std::vector<RequestRecord> LoadGenerator::take_history() {
    std::vector<RequestRecord> all;
    for (auto& w : workers_) {
        all.insert(all.end(), w->records.begin(), w->records.end());
        w->records.clear();
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const RequestRecord& a, const RequestRecord& b) { return a.intended_us < b.intended_us; });
    return all;
}

Histogram LoadGenerator::latency() const {
    Histogram merged;
    for (const auto& w : workers_) merged.merge(w->latency);
    return merged;
}

} // namespace lastcall::harness
