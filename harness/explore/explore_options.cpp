// explore's options: every value checked here, with the option in the message.
#include "explore_options.hpp"

#include "signals.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace lastcall::harness::explore {

namespace {

std::uint64_t whole(const std::string& option, const std::string& text, std::uint64_t low, std::uint64_t high) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
        throw std::invalid_argument(fmt::format("{} {}: not a whole number from {} to {}", option, text, low, high));
    }
    return value;
}

Duration duration(const std::string& option, const std::string& text) {
    const auto d = parse_duration(text);
    if (!d || *d <= Duration::zero()) throw std::invalid_argument(fmt::format("{} {}: not a duration like 90s, 5m or 250ms", option, text));
    return *d;
}

int signal(const std::string& option, const std::string& text) {
    const auto s = parse_signal(text);
    if (!s) throw std::invalid_argument(fmt::format("{} {}: not a signal (TERM, QUIT, INT, ...)", option, text));
    return *s;
}

} // namespace

ExploreOptions read_explore_options(const ExploreWords& w) {
    ExploreOptions o;
    if (w.scenario.empty()) throw std::invalid_argument("explore needs a scenario file");
    o.scenario_file = w.scenario;
    if (!w.budget.empty()) o.budget = duration("--budget", w.budget);
    if (!w.seed.empty()) o.seed = whole("--seed", w.seed, 0, (1ULL << 63) - 1);
    if (!w.out.empty()) o.out = w.out;
    if (!w.reruns.empty()) o.reruns = static_cast<int>(whole("--reruns", w.reruns, 1, 1000));
    if (!w.shrink_runs.empty()) o.max_shrink_runs = static_cast<int>(whole("--shrink-runs", w.shrink_runs, 0, 100000));
    if (!w.server.empty()) o.run.server_path = std::filesystem::absolute(w.server).string();
    o.run.extra_target_args = w.target_args;
    if (!w.fast_signal.empty()) o.bounds.fast_signal = signal("--fast-signal", w.fast_signal);
    if (!w.graceful_signal.empty()) o.bounds.graceful_signal = signal("--graceful-signal", w.graceful_signal);
    if (!w.latest.empty()) o.bounds.latest = duration("--latest", w.latest);
    if (!w.max_connections.empty()) o.bounds.max_connections = static_cast<int>(whole("--max-connections", w.max_connections, 1, 100000));
    if (!w.max_rate.empty()) {
        const auto rate = parse_rate(w.max_rate);
        if (!rate || *rate < 1) throw std::invalid_argument("--max-rate " + w.max_rate + ": not a rate like 200/s (at least 1/s)");
        o.bounds.max_rate = *rate;
    }
    return o;
}

} // namespace lastcall::harness::explore
