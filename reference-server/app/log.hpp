#pragma once
// JSON-lines logs on stderr, one write() per line so lines from several threads never interleave.
//     log::info("listening").field("port", 8080);   // emitted when the temporary dies
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::server::log {

class Line {
public:
    Line(std::string_view level, std::string_view message);
    ~Line();
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;

    Line& field(std::string_view key, std::string_view value);
    Line& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
    Line& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
    Line& field(std::string_view key, std::int64_t value);
    Line& field(std::string_view key, std::uint64_t value);
    Line& field(std::string_view key, int value) { return field(key, static_cast<std::int64_t>(value)); }
    Line& field(std::string_view key, unsigned value) { return field(key, static_cast<std::uint64_t>(value)); }
    Line& field(std::string_view key, double value);
    Line& field(std::string_view key, bool value);

private:
    std::string text_;
};

inline Line info(std::string_view message) { return Line("info", message); }
inline Line warn(std::string_view message) { return Line("warn", message); }
inline Line error(std::string_view message) { return Line("error", message); }

std::string json_escape(std::string_view text);

// At most one line per `interval` about a recurring condition (a failing accept()): admit() says
// whether this occurrence may log, and how many were held back since the last line that did.
class Limiter {
public:
    using Clock = std::chrono::steady_clock;
    explicit Limiter(Clock::duration interval) : interval_(interval) {}
    // nullopt: stay quiet; otherwise the number of occurrences held back before this one.
    std::optional<std::uint64_t> admit(Clock::time_point now);

private:
    Clock::duration interval_;
    std::optional<Clock::time_point> last_;
    std::uint64_t held_back_ = 0;
};

} // namespace lastcall::server::log
