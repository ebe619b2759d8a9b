#include "log.hpp"

#include <fmt/format.h>

#include <chrono>
#include <utility>
#include <unistd.h>

namespace lastcall::server::log {

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out += c;
            }
        }
    }
    return out;
}

Line::Line(std::string_view level, std::string_view message) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    text_ = fmt::format(R"({{"ts_us":{},"level":"{}","msg":"{}")", us, level, json_escape(message));
}

Line::~Line() {
    text_ += "}\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, text_.data(), text_.size());
}

Line& Line::field(std::string_view key, std::string_view value) {
    text_ += fmt::format(R"(,"{}":"{}")", key, json_escape(value));
    return *this;
}
Line& Line::field(std::string_view key, std::int64_t value) {
    text_ += fmt::format(R"(,"{}":{})", key, value);
    return *this;
}
Line& Line::field(std::string_view key, std::uint64_t value) {
    text_ += fmt::format(R"(,"{}":{})", key, value);
    return *this;
}
Line& Line::field(std::string_view key, double value) {
    text_ += fmt::format(R"(,"{}":{:.3f})", key, value);
    return *this;
}
Line& Line::field(std::string_view key, bool value) {
    text_ += fmt::format(R"(,"{}":{})", key, value);
    return *this;
}

std::optional<std::uint64_t> Limiter::admit(Clock::time_point now) {
    if (last_ && now - *last_ < interval_) {
        ++held_back_;
        return std::nullopt;
    }
    last_ = now;
    return std::exchange(held_back_, 0);
}

} // namespace lastcall::server::log
