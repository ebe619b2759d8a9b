// RequestMetrics alone: routes by method and path, cumulative buckets, series only once used,
// shards from many threads summed, the rejected and dropped totals.
#include "request_metrics.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace lastcall::server {
namespace {

using namespace std::chrono_literals;
using Route = RequestMetrics::Route;

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(RequestMetrics, RoutesByMethodAndPath) {
    EXPECT_EQ(RequestMetrics::route_of("GET", "/fast"), Route::fast);
    EXPECT_EQ(RequestMetrics::route_of("HEAD", "/fast"), Route::fast);
    EXPECT_EQ(RequestMetrics::route_of("POST", "/fast"), Route::other);
    EXPECT_EQ(RequestMetrics::route_of("GET", "/jobs/17"), Route::jobs_get);
    EXPECT_EQ(RequestMetrics::route_of("GET", "/jobs/"), Route::other);
    EXPECT_EQ(RequestMetrics::route_of("POST", "/counter/incr"), Route::counter_incr);
    EXPECT_EQ(RequestMetrics::route_of("GET", "/../etc/passwd"), Route::other) << "whatever a client sends, the series are bounded";
}

TEST(RequestMetrics, BucketsAreCumulativeAndTheSumIsInSeconds) {
    auto m = std::make_unique<RequestMetrics>();
    m->record(Route::slow, 200, 2ms);
    m->record(Route::slow, 200, 300ms);
    m->record(Route::slow, 200, 20s);
    m->record(Route::slow, 299, 1ms);  // a code this server never sends
    const auto text = m->exposition();
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/slow",code="200",le="0.001"} 0)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/slow",code="200",le="0.005"} 1)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/slow",code="200",le="0.5"} 2)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/slow",code="200",le="10"} 2)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_bucket{route="/slow",code="200",le="+Inf"} 3)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_sum{route="/slow",code="200"} 20.302)")) << text;
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_count{route="/slow",code="other"} 1)")) << text;
    EXPECT_EQ(text.find(R"(route="/fast")"), std::string::npos) << "no series before its first request";
}

TEST(RequestMetrics, ThreadsWritingTheirOwnShardsAddUp) {
    auto m = std::make_unique<RequestMetrics>();
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&m] {
            for (int i = 0; i < 1000; ++i) m->record(Route::fast, 200, 100us);
            m->note_rejected();
            m->note_dropped();
        });
    }
    for (auto& t : threads) t.join();
    const auto text = m->exposition();
    EXPECT_TRUE(has(text, R"(lastcall_http_request_duration_seconds_count{route="/fast",code="200"} 12000)")) << text;
    EXPECT_TRUE(has(text, "lastcall_http_rejected_total 12")) << text;
    EXPECT_TRUE(has(text, "lastcall_http_dropped_total 12")) << text;
}

} // namespace
} // namespace lastcall::server
