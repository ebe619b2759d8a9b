#include "units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace lastcall::harness {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits, optionally '.' and more digits. from_chars alone would also take "nan", "inf" and
// "1e300", which read as durations overflow the nanosecond count (undefined behaviour in the cast).
std::optional<double> parse_number(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = text.substr(0, dot);
    const auto fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || !std::all_of(whole.begin(), whole.end(), is_digit)) return std::nullopt;
    if (dot != std::string_view::npos && (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), is_digit))) {
        return std::nullopt;
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

struct Unit {
    std::string_view suffix;
    std::int64_t nanoseconds;
};
// Longest suffixes first so "ms" is not read as "m" + "s".
constexpr Unit duration_units[] = {{"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000},
                                   {"h", 3'600'000'000'000}};

} // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text == "0") return Duration::zero();
    for (const auto& unit : duration_units) {
        if (text.size() <= unit.suffix.size() || !text.ends_with(unit.suffix)) continue;
        const auto number = parse_number(text.substr(0, text.size() - unit.suffix.size()));
        if (!number) return std::nullopt;
        const double nanoseconds = std::round(*number * static_cast<double>(unit.nanoseconds));
        // 2^63 is exactly representable; anything at or above it does not fit in the count.
        if (nanoseconds >= std::ldexp(1.0, 63)) return std::nullopt;
        return Duration(static_cast<Duration::rep>(nanoseconds));
    }
    return std::nullopt;
}

std::optional<double> parse_rate(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto count = parse_number(text.substr(0, slash));
    const auto per = text.substr(slash + 1);
    if (!count || *count <= 0) return std::nullopt;
    if (per == "s") return *count;
    if (per == "m") return *count / 60.0;
    if (per == "h") return *count / 3600.0;
    return std::nullopt;
}

std::string format_duration(Duration duration) {
    if (duration == Duration::zero()) return "0s";
    for (auto unit = std::rbegin(duration_units); unit != std::rend(duration_units); ++unit) {
        if (duration.count() % unit->nanoseconds == 0) return std::to_string(duration.count() / unit->nanoseconds) + std::string(unit->suffix);
    }
    return std::to_string(duration.count()) + "ns";
}

} // namespace lastcall::harness
