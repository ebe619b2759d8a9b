#pragma once
// Durations ("250ms", "3s", "1m") and rates ("200/s", "50/m") as scenarios and the CLI write them.
#include <chrono>
#include <optional>
#include <string_view>

namespace lastcall::harness {

using Duration = std::chrono::nanoseconds;

// nullopt when `text` is not a duration; "0" alone is allowed.
std::optional<Duration> parse_duration(std::string_view text);
// Requests per second; nullopt when `text` is not a rate.
std::optional<double> parse_rate(std::string_view text);

} // namespace lastcall::harness
