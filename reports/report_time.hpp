#pragma once
// Wall-clock times as reports write them: report.json in RFC 3339 UTC, JUnit with the local offset
// (CI shows a suite's time where it ran; with the offset it is still one instant).
#include <cstdint>
#include <string>

namespace lastcall::reports {

// "2026-12-05T03:10:11.123Z" (milliseconds); microseconds since the Unix epoch in.
std::string rfc3339_utc(std::int64_t unix_us);
// "2026-12-05T04:10:11+01:00": local time and its offset, to the second.
std::string iso8601_local(std::int64_t unix_us);
// Now, in microseconds since the Unix epoch.
std::int64_t unix_now_us();

} // namespace lastcall::reports
