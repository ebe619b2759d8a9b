// The load generator's per-request path, piece by piece, so a regression shows before an
// end-to-end run: recording a request (its bench totals, its latency bucket, its history record
// encoded into the spool's buffer), classifying it, the histogram, reading a typical response (a
// head seen before, and heads that change), the SSE tokenizer on a typical stream chunk, and the
// wait for a response on a real loopback connection (Asio's read against the readiness poller's).
// scripts/bench-micro runs them.
#include "bench_summary.hpp"
#include "histogram.hpp"
#include "readiness_poller.hpp"
#include "history.hpp"
#include "history_codec.hpp"
#include "history_spool.hpp"
#include "response_reader.hpp"
#include "sse_parser.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <deque>
#include <filesystem>
#include <string>

#include <sys/socket.h>

namespace {

using namespace lastcall::harness;

RequestRecord typical_record(std::uint64_t n) {
    RequestRecord r;
    r.id = (n << 8) | 1;
    r.intended_us = static_cast<std::int64_t>(n) * 15;
    r.sent_us = r.intended_us + 1;
    r.first_byte_us = r.intended_us + 30;
    r.done_us = r.intended_us + 31;
    r.bytes = 117;
    r.body_bytes = 3;
    r.connection_id = 7;
    r.reuse_index = static_cast<std::uint32_t>(n);
    r.status = 200;
    r.outcome = Outcome::ok;
    return r;
}

// What LoadWorker::record does with a finished request, but the live atomics: the bench totals,
// the ok-latency histogram, and the record appended to the thread's history file (its write(2)
// every 256 KiB included, into the page cache of $TMPDIR).
void BM_RecordRequest(benchmark::State& state) {
    HistorySpool spool(std::filesystem::temp_directory_path(), default_history_bytes);
    BenchTally tally;
    Histogram latency;
    std::uint64_t n = 0;
    for (auto _ : state) {
        const auto r = typical_record(++n);
        latency.record(static_cast<std::uint64_t>(r.done_us - r.intended_us) * 1000);
        tally.add(r, false);
        spool.append(r);
    }
    benchmark::DoNotOptimize(tally);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordRequest);

void BM_EncodeRecord(benchmark::State& state) {
    std::string out(max_encoded_record, '\0');  // as the spool does: into its buffer's free room
    std::uint64_t n = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(encode_record(typical_record(++n), out.data()));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeRecord);

void BM_DecodeRecord(benchmark::State& state) {
    std::string bytes;
    encode_record(typical_record(123456), bytes);
    RequestRecord r;
    for (auto _ : state) {
        benchmark::DoNotOptimize(decode_record(bytes, r));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRecord);

void BM_Classify(benchmark::State& state) {
    Observation seen;
    seen.complete = true;
    seen.status = 200;
    seen.reused_connection = true;
    seen.response_bytes = 117;
    for (auto _ : state) {
        benchmark::DoNotOptimize(seen);
        benchmark::DoNotOptimize(classify(seen));
    }
}
BENCHMARK(BM_Classify);

void BM_ClassifyIdleCloseRace(benchmark::State& state) {
    Observation seen;
    seen.reused_connection = true;
    seen.failure = Failure::eof_before_response;
    seen.closed_after_send_us = 200;
    for (auto _ : state) {
        benchmark::DoNotOptimize(seen);
        benchmark::DoNotOptimize(classify(seen));
    }
}
BENCHMARK(BM_ClassifyIdleCloseRace);

void BM_HistogramRecord(benchmark::State& state) {
    Histogram h;
    std::uint64_t v = 12345;
    for (auto _ : state) {
        v = v * 6364136223846793005ULL + 1442695040888963407ULL;  // spread over the buckets
        h.record((v >> 40) & 0xffffff);
    }
    benchmark::DoNotOptimize(h);
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramPercentile(benchmark::State& state) {
    Histogram h;
    std::uint64_t v = 12345;
    for (int i = 0; i < 1'000'000; ++i) {
        v = v * 6364136223846793005ULL + 1442695040888963407ULL;
        h.record((v >> 40) & 0xffffff);
    }
    for (auto _ : state) benchmark::DoNotOptimize(h.percentile(99.9));
}
BENCHMARK(BM_HistogramPercentile);

// A typical small keep-alive response, as lastcall-server's /fast sends it, in one read.
void BM_ResponseReaderTypical(benchmark::State& state) {
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";
    ResponseReader reader;
    for (auto _ : state) {
        reader.begin(false, nullptr);
        benchmark::DoNotOptimize(reader.feed(response));
        if (!reader.done()) state.SkipWithError("the response did not complete");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * response.size()));
}
BENCHMARK(BM_ResponseReaderTypical);

// The same response under two heads in turn (a Date that changed): each one is parsed, never
// replayed as the head the reader kept (BM_ResponseReaderTypical reads a head it has seen).
void BM_ResponseReaderChangingHead(benchmark::State& state) {
    const std::string responses[2] = {
        "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 06:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n",
        "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 06:00:01 GMT\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n"};
    ResponseReader reader;
    std::size_t n = 0;
    for (auto _ : state) {
        reader.begin(false, nullptr);
        benchmark::DoNotOptimize(reader.feed(responses[++n % 2]));
        if (!reader.done()) state.SkipWithError("the response did not complete");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * responses[0].size()));
}
BENCHMARK(BM_ResponseReaderChangingHead);

struct CountingSink final : SseEventSink {
    void on_event(const SseEvent& event) override { bytes += event.data.size(); }
    std::uint64_t bytes = 0;
};

// One read's worth of a token stream: 16 events with ids and JSON data.
void BM_SseParserChunk(benchmark::State& state) {
    std::string chunk;
    for (int i = 0; i < 16; ++i) chunk += "id: " + std::to_string(1000 + i) + "\ndata: {\"token\":\"word" + std::to_string(i) + "\"}\n\n";
    CountingSink sink;
    SseParser parser(sink);
    for (auto _ : state) parser.feed(chunk);
    benchmark::DoNotOptimize(sink.bytes);
    state.SetItemsProcessed(state.iterations() * 16);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_SseParserChunk);

// `count` connections on 127.0.0.1, one io_context: `clients` as the load generator holds them
// (non-blocking, no delay), `servers` to answer on.
struct LoopbackConnections {
    boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::deque<boost::asio::ip::tcp::socket> clients, servers;
    explicit LoopbackConnections(std::int64_t count) {
        using boost::asio::ip::tcp;
        tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        for (std::int64_t i = 0; i < count; ++i) {
            auto& client = clients.emplace_back(io);
            client.connect(acceptor.local_endpoint());
            acceptor.accept(servers.emplace_back(io));
            client.set_option(tcp::no_delay(true));
            servers.back().set_option(tcp::no_delay(true));
            client.non_blocking(true);
        }
    }
    void answer_all() {  // a typical small response on each, after every client began to wait
        static constexpr std::string_view response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        for (auto& server : servers) ::send(server.native_handle(), response.data(), response.size(), 0);
    }
};

// What the load generator's response wait was: Asio's async_read_some on each connection (a
// speculative recv that finds nothing yet, then the reactor's wait), the answers, the reads
// completing. Argument: the connections answered together (one batch of the reactor).
void BM_ResponseWaitAsioRead(benchmark::State& state) {
    LoopbackConnections pairs(state.range(0));
    std::array<char, 16 * 1024> buffer;
    for (auto _ : state) {
        std::int64_t read = 0;
        for (auto& client : pairs.clients) {
            client.async_read_some(boost::asio::buffer(buffer), [&](const boost::system::error_code& ec, std::size_t) { read += ec ? 0 : 1; });
        }
        pairs.answer_all();
        pairs.io.restart();
        pairs.io.run();
        if (read != state.range(0)) state.SkipWithError("a response was not read");
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ResponseWaitAsioRead)->Arg(1)->Arg(16);

// What it is: each connection's wait in the thread's epoll set (no syscall), the answers, one
// epoll_wait reporting them, one recv each.
void BM_ResponseWaitReadinessPoller(benchmark::State& state) {
    LoopbackConnections pairs(state.range(0));
    ReadinessPoller poller(pairs.io);
    std::deque<ReadWaiter> waiters(pairs.clients.size());
    for (std::size_t i = 0; i < waiters.size(); ++i) {
        if (!poller.add(pairs.clients[i].native_handle(), waiters[i])) state.SkipWithError("no epoll set");
    }
    std::array<char, 16 * 1024> buffer;
    for (auto _ : state) {
        std::int64_t read = 0;
        for (std::size_t i = 0; i < waiters.size(); ++i) {
            waiters[i].async_wait([&, i](const boost::system::error_code& ec) {
                if (ec) return;
                const auto n = ::recv(pairs.clients[i].native_handle(), buffer.data(), buffer.size(), 0);
                if (n > 0) ++read;
                if (n <= 0 || static_cast<std::size_t>(n) < buffer.size()) waiters[i].drained();
            });
        }
        pairs.answer_all();
        pairs.io.restart();
        pairs.io.run();
        if (read != state.range(0)) state.SkipWithError("a response was not read");
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ResponseWaitReadinessPoller)->Arg(1)->Arg(16);

} // namespace
