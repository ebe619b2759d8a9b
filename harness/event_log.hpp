#pragma once
// The run's events (spawn, ready, signals, exits, reaped orphans, actions...), each stamped with
// the time since the run started, kept for events.jsonl and echoed live, one line each.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lastcall::harness {

// JSON text that never throws: bytes a target put into a name or a command line that are not
// UTF-8 are replaced, not fatal.
std::string dump_json(const nlohmann::json& value, int indent = -1);

class EventLog {
public:
    using Clock = std::chrono::steady_clock;
    EventLog(Clock::time_point start, std::function<void(const std::string&)> live) : start_(start), live_(std::move(live)) {}

    // Moves t = 0 (the run's clock starts when the load starts, after the target became ready);
    // events already recorded keep their moment and get earlier, possibly negative, times.
    void set_start(Clock::time_point start) { start_ = start; }
    Clock::time_point start() const { return start_; }

    std::int64_t now_us() const { return since_start(Clock::now()); }
    std::int64_t since_start(Clock::time_point t) const {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - start_).count();
    }
    void record(const std::string& type, nlohmann::json detail = nlohmann::json::object()) { record_at(Clock::now(), type, std::move(detail)); }
    void record_at(Clock::time_point when, const std::string& type, nlohmann::json detail = nlohmann::json::object());
    // An event whose time is known in run time only (a readiness change the prober recorded).
    void record_at_us(std::int64_t t_us, const std::string& type, nlohmann::json detail) {
        record_at(start_ + std::chrono::microseconds(t_us), type, std::move(detail));
    }
    // In time order (events recorded after the fact, such as reaped orphans, take their place).
    std::vector<nlohmann::json> sorted() const;

private:
    Clock::time_point start_;
    std::function<void(const std::string&)> live_;
    struct Event {
        Clock::time_point when;
        nlohmann::json detail;
    };
    std::vector<Event> events_;
};

} // namespace lastcall::harness
