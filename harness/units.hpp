#pragma once
// Durations ("250ms", "3s", "1m") and rates ("200/s", "50/m") as scenarios and the CLI write them.
// Numbers are plain decimals ("1.5s"): no sign, no exponent, no nan or inf.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::harness {

using Duration = std::chrono::nanoseconds;

// nullopt when `text` is not a duration or does not fit in Duration (about 292 years); "0" alone is allowed.
std::optional<Duration> parse_duration(std::string_view text);
// Requests per second; nullopt when `text` is not a positive rate.
std::optional<double> parse_rate(std::string_view text);

// The shortest exact spelling in the largest unit that divides it: "0s", "250ms", "90s", "1h", "1500us"
// (what parse_duration reads back; a remainder below a microsecond is written in ns).
std::string format_duration(Duration duration);

} // namespace lastcall::harness
