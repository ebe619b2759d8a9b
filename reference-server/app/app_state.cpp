#include "app_state.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace lastcall::server {

std::string encode_state(std::int64_t counter) { return fmt::format("counter {}\n", counter); }

std::int64_t decode_state(const std::string& payload) {
    constexpr std::string_view prefix = "counter ";
    std::string_view text(payload);
    if (text.substr(0, prefix.size()) != prefix || text.empty() || text.back() != '\n') {
        throw std::runtime_error("checkpoint payload is not 'counter N'");
    }
    text = text.substr(prefix.size(), text.size() - prefix.size() - 1);
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        throw std::runtime_error(fmt::format("checkpoint payload has a bad counter '{}'", text));
    }
    return value;
}

} // namespace lastcall::server
