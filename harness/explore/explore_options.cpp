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

std::string explore_usage() {
    return "usage: lastcall explore SCENARIO [--budget 5m] [--seed N] [--out DIR] [--reruns 5]\n"
           "         [--server PATH] [--target-arg ARG]... [--var NAME=VALUE]...\n"
           "         [--fast-signal SIG] [--graceful-signal SIG] [--latest 2s] [--max-connections N] [--max-rate R]\n"
           "         [--shrink-runs 60]\n"
           "  Generates trials from SCENARIO (signal moments, signal sequences, workload mixes, connections and\n"
           "  rates within the scenario's values), runs each as an ordinary run, shrinks each new failure to a\n"
           "  minimal scenario (every shrink step a real run, within the budget), re-runs it --reruns times and\n"
           "  writes it to DIR/findings/NAME.yaml; DIR/explore.json and the text report say what was found.\n"
           "  --fast-signal: the target's fast-shutdown signal (the `fast` sequence is tried only when given).\n"
           "  --latest: the latest first-signal moment (default: a third of limits.max_duration).\n"
           "  Exit: 0 nothing failed, 1 a failure was found, 2 usage or scenario error, 3 the target never\n"
           "  started, 130 interrupted (what was found so far is reported).\n";
}

ExploreOptions parse_explore_options(const std::vector<std::string>& args) {
    ExploreOptions o;
    bool have_file = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "--budget") o.budget = duration(a, value());
        else if (a == "--seed") o.seed = whole(a, value(), 0, (1ULL << 63) - 1);
        else if (a == "--out") o.out = value();
        else if (a == "--reruns") o.reruns = static_cast<int>(whole(a, value(), 1, 1000));
        else if (a == "--shrink-runs") o.max_shrink_runs = static_cast<int>(whole(a, value(), 0, 100000));
        else if (a == "--server") o.run.server_path = std::filesystem::absolute(value()).string();
        else if (a == "--target-arg") o.run.extra_target_args.push_back(value());
        else if (a == "--var") {
            const auto assignment = value();
            const auto eq = assignment.find('=');
            if (eq == 0 || eq == std::string::npos) throw std::invalid_argument("--var takes NAME=VALUE, not '" + assignment + "'");
            o.variables.values[assignment.substr(0, eq)] = assignment.substr(eq + 1);
        }
        else if (a == "--fast-signal") o.bounds.fast_signal = signal(a, value());
        else if (a == "--graceful-signal") o.bounds.graceful_signal = signal(a, value());
        else if (a == "--latest") o.bounds.latest = duration(a, value());
        else if (a == "--max-connections") o.bounds.max_connections = static_cast<int>(whole(a, value(), 1, 100000));
        else if (a == "--max-rate") {
            const auto text = value();
            const auto rate = parse_rate(text);
            if (!rate || *rate < 1) throw std::invalid_argument("--max-rate " + text + ": not a rate like 200/s (at least 1/s)");
            o.bounds.max_rate = *rate;
        }
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
        else if (have_file) throw std::invalid_argument("explore takes one scenario file, not also '" + a + "'");
        else {
            o.scenario_file = a;
            have_file = true;
        }
    }
    if (!have_file) throw std::invalid_argument("explore needs a scenario file");
    return o;
}

} // namespace lastcall::harness::explore
