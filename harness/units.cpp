#include "units.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

namespace lastcall::harness {

namespace {

std::optional<double> parse_number(std::string_view text) {
    if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

} // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text == "0") return Duration::zero();
    struct Unit {
        std::string_view suffix;
        double nanoseconds;
    };
    // Longest suffixes first so "ms" is not read as "m" + "s".
    static constexpr Unit units[] = {{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    for (const auto& unit : units) {
        if (text.size() <= unit.suffix.size() || text.substr(text.size() - unit.suffix.size()) != unit.suffix) continue;
        const auto number = parse_number(text.substr(0, text.size() - unit.suffix.size()));
        if (!number) return std::nullopt;
        return Duration(static_cast<Duration::rep>(*number * unit.nanoseconds));
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

} // namespace lastcall::harness
