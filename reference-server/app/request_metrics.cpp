#include "request_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::server {

namespace {

constexpr std::string_view route_names[RequestMetrics::route_count]{
    "/fast", "/slow", "/stream", "/counter/incr", "/counter", "/set/add", "/set", "/jobs", "/jobs/{id}", "/stuck", "/health", "/ready", "/status",
    "/metrics", "other"};

std::size_t code_index(int status) {
    const auto& codes = RequestMetrics::codes;
    const auto it = std::find(codes.begin(), codes.end(), status);
    return static_cast<std::size_t>(it - codes.begin());  // codes.size(): "other"
}

std::string code_label(std::size_t index) { return index < RequestMetrics::codes.size() ? std::to_string(RequestMetrics::codes[index]) : "other"; }

// Each thread takes the next shard the first time it records, and keeps it.
std::atomic<std::size_t> next_shard{0};

} // namespace

RequestMetrics::Route RequestMetrics::route_of(std::string_view method, std::string_view path) {
    // By method too: a POST /fast answered 405 is not the /fast route.
    const bool get = method == "GET" || method == "HEAD";
    if (get && path == "/fast") return Route::fast;
    if (get && path == "/slow") return Route::slow;
    if (get && path == "/stream") return Route::stream;
    if (method == "POST" && path == "/counter/incr") return Route::counter_incr;
    if (get && path == "/counter") return Route::counter;
    if (method == "POST" && path == "/set/add") return Route::set_add;
    if (get && path == "/set") return Route::set;
    if (method == "POST" && path == "/jobs") return Route::jobs_create;
    if (get && path.size() > 6 && path.substr(0, 6) == "/jobs/") return Route::jobs_get;
    if (method == "POST" && path == "/stuck") return Route::stuck;
    if (get && path == "/health") return Route::health;
    if (get && path == "/ready") return Route::ready;
    if (get && path == "/status") return Route::status;
    if (get && path == "/metrics") return Route::metrics;
    return Route::other;
}

std::string_view RequestMetrics::name(Route route) { return route_names[static_cast<std::size_t>(route)]; }

RequestMetrics::Shard& RequestMetrics::shard() {
    thread_local const std::size_t mine = next_shard.fetch_add(1, std::memory_order_relaxed) % shard_count;
    return shards_[mine];
}

void RequestMetrics::record(Route route, int status, std::chrono::steady_clock::duration took) {
    const double seconds = std::chrono::duration<double>(took).count();
    const auto bucket = static_cast<std::size_t>(std::lower_bound(bucket_bounds.begin(), bucket_bounds.end(), seconds) - bucket_bounds.begin());
    auto& s = shard().series[static_cast<std::size_t>(route) * code_count + code_index(status)];
    s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    s.sum_ns.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()), std::memory_order_relaxed);
}

std::string RequestMetrics::exposition() const {
    std::string text =
        "# HELP lastcall_http_request_duration_seconds Time from a request's head read to its response ready to write (a stream: its whole life), by route and status code.\n"
        "# TYPE lastcall_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < route_count * code_count; ++i) {
        std::array<std::uint64_t, bucket_count> buckets{};
        std::uint64_t sum_ns = 0;
        for (const auto& shard : shards_) {
            for (std::size_t b = 0; b < bucket_count; ++b) buckets[b] += shard.series[i].buckets[b].load(std::memory_order_relaxed);
            sum_ns += shard.series[i].sum_ns.load(std::memory_order_relaxed);
        }
        std::uint64_t count = 0;
        for (const auto n : buckets) count += n;
        if (count == 0) continue;  // a series appears with its first request
        const auto labels = fmt::format("route=\"{}\",code=\"{}\"", route_names[i / code_count], code_label(i % code_count));
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < bucket_count; ++b) {
            cumulative += buckets[b];
            const auto le = b < bucket_bounds.size() ? fmt::format("{}", bucket_bounds[b]) : std::string("+Inf");
            text += fmt::format("lastcall_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, le, cumulative);
        }
        text += fmt::format("lastcall_http_request_duration_seconds_sum{{{}}} {}\n", labels, static_cast<double>(sum_ns) / 1e9);
        text += fmt::format("lastcall_http_request_duration_seconds_count{{{}}} {}\n", labels, count);
    }
    std::uint64_t rejected = 0, dropped = 0;
    for (const auto& shard : shards_) {
        rejected += shard.rejected.load(std::memory_order_relaxed);
        dropped += shard.dropped.load(std::memory_order_relaxed);
    }
    text += fmt::format("# HELP lastcall_http_rejected_total Requests answered 503 because the server was draining.\n"
                        "# TYPE lastcall_http_rejected_total counter\nlastcall_http_rejected_total {}\n"
                        "# HELP lastcall_http_dropped_total Responses that could not be written whole (the connection failed).\n"
                        "# TYPE lastcall_http_dropped_total counter\nlastcall_http_dropped_total {}\n",
                        rejected, dropped);
    return text;
}

} // namespace lastcall::server
