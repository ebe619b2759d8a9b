#include "event_log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::harness {

std::string dump_json(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void EventLog::record_at(Clock::time_point when, const std::string& type, nlohmann::json detail) {
    detail["type"] = type;
    if (live_) live_(fmt::format("{:8.3f}s  {} {}", static_cast<double>(since_start(when)) / 1e6, type, dump_json(detail)));
    events_.push_back(Event{when, std::move(detail)});
}

std::vector<nlohmann::json> EventLog::sorted() const {
    auto ordered = events_;
    std::stable_sort(ordered.begin(), ordered.end(), [](const Event& a, const Event& b) { return a.when < b.when; });
    std::vector<nlohmann::json> out;
    for (auto& e : ordered) {
        nlohmann::json line = {{"t_us", since_start(e.when)}};
        line.update(e.detail);
        out.push_back(std::move(line));
    }
    return out;
}

} // namespace lastcall::harness
