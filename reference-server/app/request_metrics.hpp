#pragma once
// What /metrics says about requests: a latency histogram per route and status code (from the
// head read to the response ready to write, counted before the write so that a client holding its
// response finds it counted; a stream's whole life), and the requests the server turned away (503
// while draining) or could not answer (the response could not be written whole). Recorded on the
// request path, so it costs a few relaxed increments: counts are split into shards, and each
// thread writes the shard it was given, so io threads do not fight over cache lines; /metrics sums
// the shards. Routes and codes are fixed lists, so the number of series is bounded whatever
// clients send.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace lastcall::server {

class RequestMetrics {
public:
    enum class Route : std::uint8_t {
        fast, slow, stream, counter_incr, counter, set_add, set, jobs_create, jobs_get, stuck, health, ready, status, metrics, other
    };
    static constexpr std::size_t route_count = 15;
    // The status codes this server sends; anything else counts as "other".
    static constexpr std::array<int, 14> codes{200, 202, 204, 400, 404, 405, 409, 413, 414, 431, 500, 503, 505, 507};
    static constexpr std::size_t code_count = codes.size() + 1;
    // Upper bounds in seconds; a last bucket (+Inf) takes the rest.
    static constexpr std::array<double, 12> bucket_bounds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    static Route route_of(std::string_view method, std::string_view path);
    static std::string_view name(Route route);

    void record(Route route, int status, std::chrono::steady_clock::duration took);
    void note_rejected() { shard().rejected.fetch_add(1, std::memory_order_relaxed); }  // a 503 while draining
    void note_dropped() { shard().dropped.fetch_add(1, std::memory_order_relaxed); }    // a response not written whole

    // The Prometheus text exposition of all of the above (HELP, TYPE, series).
    std::string exposition() const;

private:
    static constexpr std::size_t shard_count = 8;
    static constexpr std::size_t bucket_count = bucket_bounds.size() + 1;
    struct Series {
        std::array<std::atomic<std::uint64_t>, bucket_count> buckets{};  // not cumulative: summed when shown
        std::atomic<std::uint64_t> sum_ns{0};
    };
    struct alignas(64) Shard {
        std::array<Series, route_count * code_count> series{};
        std::atomic<std::uint64_t> rejected{0};
        std::atomic<std::uint64_t> dropped{0};
    };
    Shard& shard();

    std::array<Shard, shard_count> shards_{};
};

} // namespace lastcall::server
