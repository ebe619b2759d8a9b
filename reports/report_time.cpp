#include "report_time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace lastcall::reports {

namespace {

// Floor division: a time before the epoch still splits into whole seconds and a positive rest.
std::time_t whole_seconds(std::int64_t unix_us) { return static_cast<std::time_t>(unix_us >= 0 ? unix_us / 1'000'000 : (unix_us - 999'999) / 1'000'000); }

} // namespace

std::string rfc3339_utc(std::int64_t unix_us) {
    const auto seconds = whole_seconds(unix_us);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    const auto millis = (unix_us - static_cast<std::int64_t>(seconds) * 1'000'000) / 1000;
    return fmt::format("{}.{:03}Z", text, millis);
}

std::string iso8601_local(std::int64_t unix_us) {
    const auto seconds = whole_seconds(unix_us);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &local);
    // strftime's %z gives +0100; ISO 8601's extended form (and xs:dateTime) wants +01:00, and Z for UTC.
    const long offset = local.tm_gmtoff;
    if (offset == 0) return std::string(text) + "Z";
    const long magnitude = offset < 0 ? -offset : offset;
    return fmt::format("{}{}{:02}:{:02}", text, offset < 0 ? '-' : '+', magnitude / 3600, magnitude % 3600 / 60);
}

std::int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace lastcall::reports
