// lastcall-server's per-request path, piece by piece, so a regression shows before an end-to-end
// run against nginx (scripts/bench-server-vs-nginx): parsing a typical head (wrk's GET), judging it
// by the RFC 9112 rules, counting it in /metrics, building its reply, and the block cache the read
// buffer, the parser's fields and the idle wait take their memory from. Each is a plain function;
// the socket and the scheduler are not in them. Run: build/tests/bench/server_request_bench.
#include "block_cache.hpp"
#include "http_reply.hpp"
#include "request_metrics.hpp"
#include "request_rules.hpp"

#include <benchmark/benchmark.h>
#include <boost/beast/http.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace {

using namespace lastcall::server;
namespace http = boost::beast::http;

constexpr std::string_view wrk_request = "GET /fast HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

// As the session parses: the fields' memory from the thread's block cache.
void BM_ParseHead(benchmark::State& state) {
    for (auto _ : state) {
        http::request_parser<http::string_body, CachedAllocator<char>> parser;
        parser.eager(false);
        boost::beast::error_code ec;
        benchmark::DoNotOptimize(parser.put(boost::asio::buffer(wrk_request.data(), wrk_request.size()), ec));
    }
}
BENCHMARK(BM_ParseHead);

void BM_JudgeRequest(benchmark::State& state) {
    RequestHead head{"GET", "/fast", 11, {{"Host", "127.0.0.1:8080"}}};
    for (auto _ : state) benchmark::DoNotOptimize(judge_request(head));
}
BENCHMARK(BM_JudgeRequest);

void BM_MetricsRecord(benchmark::State& state) {
    static RequestMetrics metrics;  // 8 shards of every series: too big for the stack
    for (auto _ : state) metrics.record(RequestMetrics::route_of("GET", "/fast"), 200, std::chrono::microseconds(40));
}
BENCHMARK(BM_MetricsRecord);

// Into a string kept between replies, as the session builds them.
void BM_ReplyBytes(benchmark::State& state) {
    const Reply reply{200, "application/json", R"({"slept_ms":0})", {}};
    std::string out;
    for (auto _ : state) {
        out.clear();
        append_reply_bytes(out, reply, {11, false, false});
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_ReplyBytes);

void BM_BlockCacheTakeGive(benchmark::State& state) {
    auto& cache = BlockCache::mine();
    for (auto _ : state) {
        void* block = cache.take(112);
        benchmark::DoNotOptimize(block);
        cache.give(block, 112);
    }
}
BENCHMARK(BM_BlockCacheTakeGive);

} // namespace
