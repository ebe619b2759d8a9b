#include "signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <cstring>

namespace lastcall::harness {

namespace {

std::optional<int> number(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool valid(int signal) { return signal >= 1 && signal <= SIGRTMAX; }

} // namespace

std::optional<int> parse_signal(std::string_view text) {
    if (text.empty() || text.size() > 16) return std::nullopt;
    if (std::isdigit(static_cast<unsigned char>(text.front()))) {
        const auto n = number(text);
        return n && valid(*n) ? n : std::nullopt;
    }
    std::string name(text);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    // Real-time signals have no fixed number: RTMIN+N counts up, RTMAX-N counts down.
    for (const auto& [prefix, base, sign] : {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
        const std::string_view p(prefix);
        if (name.rfind(p, 0) != 0) continue;
        const std::string_view rest = std::string_view(name).substr(p.size());
        if (rest.empty()) return base;
        if (rest.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
        const auto offset = number(rest.substr(1));
        if (!offset) return std::nullopt;
        const int signal = base + sign * *offset;
        return signal >= SIGRTMIN && signal <= SIGRTMAX ? std::optional(signal) : std::nullopt;
    }
    for (int signal = 1; signal < SIGRTMIN; ++signal) {
        const char* abbrev = sigabbrev_np(signal);
        if (abbrev && name == abbrev) return signal;
    }
    if (name == "IOT") return SIGABRT;  // aliases glibc does not list
    if (name == "POLL") return SIGIO;
    return std::nullopt;
}

std::string signal_name(int signal) {
    if (signal >= SIGRTMIN && signal <= SIGRTMAX) {
        if (signal == SIGRTMIN) return "SIGRTMIN";
        if (signal == SIGRTMAX) return "SIGRTMAX";
        return fmt::format("SIGRTMIN+{}", signal - SIGRTMIN);
    }
    const char* abbrev = valid(signal) ? sigabbrev_np(signal) : nullptr;
    return abbrev ? fmt::format("SIG{}", abbrev) : std::to_string(signal);
}

} // namespace lastcall::harness
