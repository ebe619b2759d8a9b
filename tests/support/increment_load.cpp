#include "increment_load.hpp"

#include "raw_http.hpp"
#include "reference_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace lastcall::testing {

namespace {

// {"value":N} -> N, or nullopt-like -1 flag through `ok`.
bool parse_value(const std::string& body, long& value) {
    const auto at = body.find("\"value\":");
    if (at == std::string::npos) return false;
    const char* begin = body.data() + at + 8;
    return std::from_chars(begin, body.data() + body.size(), value).ec == std::errc{};
}

} // namespace

IncrementLoad::IncrementLoad(unsigned short port, int connections, int max_per_connection) {
    for (int i = 0; i < connections; ++i) workers_.emplace_back([this, port, max_per_connection] { run(port, max_per_connection); });
}

IncrementLoad::~IncrementLoad() { stop(); }

void IncrementLoad::stop() {
    stopping_ = true;
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
}

bool IncrementLoad::wait_for_acks(std::size_t n, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (acks_.load() < n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::vector<long> IncrementLoad::values() const {
    std::lock_guard lock(mutex_);
    return values_;
}

void IncrementLoad::run(unsigned short port, int max_requests) {
    auto connection = RawConnection::open(port);
    for (int i = 0; connection && !stopping_ && i < max_requests; ++i) {
        if (!connection->send_post("/counter/incr?by=1")) return;
        const auto response = connection->read_response(std::chrono::seconds(5));
        long value = 0;
        // Anything else (the server was killed under it) is unknown, not acknowledged.
        if (response.status != 200 || !response.complete || !parse_value(response.body, value)) return;
        std::lock_guard lock(mutex_);
        values_.push_back(value);
        ++acks_;
    }
}

std::size_t repeated_values(std::vector<long> values) {
    std::sort(values.begin(), values.end());
    return values.size() - static_cast<std::size_t>(std::unique(values.begin(), values.end()) - values.begin());
}

long read_counter(unsigned short port) {
    const auto response = http_get(port, "/counter");
    if (response.status != 200) return -1;
    return nlohmann::json::parse(response.body).at("value").get<long>();
}

void observe_restart(const std::filesystem::path& state, const std::vector<std::string>& args, KillObservation& seen) {
    using namespace std::chrono_literals;
    ReferenceServer restarted(state, args);
    seen.after_restart = read_counter(restarted.port());
    {
        IncrementLoad load(restarted.port(), 4);
        load.wait_for_acks(100, 10s);
        load.stop();
        seen.acked_after = load.values();
    }
    restarted.process().signal(SIGTERM);
    EXPECT_TRUE(restarted.process().wait(10s)) << "the restarted server did not stop";
}

} // namespace lastcall::testing
