// timeline: entries of a scenario: when each fires (at a time, or when a condition holds) and
// its one action.
#include "scenario_sections.hpp"

#include "signal_router.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <numeric>

namespace lastcall::harness {

namespace {

std::optional<std::int64_t> whole_number(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "in_flight  >= 5" -> {"in_flight", ">=", "5"}
std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto start = text.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        const auto end = std::min(text.find_first_of(" \t", start), text.size());
        out.push_back(text.substr(start, end - start));
        text.remove_prefix(end);
    }
    return out;
}

// In flight at most: the closed loops' connections; an open loop has no bound.
std::optional<std::int64_t> most_in_flight(const Scenario& s) {
    const bool open = std::any_of(s.workloads.begin(), s.workloads.end(), [](const Workload& w) { return w.mode == LoadMode::open; });
    if (open) return std::nullopt;
    return std::accumulate(s.workloads.begin(), s.workloads.end(), std::int64_t{0},
                           [](std::int64_t sum, const Workload& w) { return sum + w.connections; });
}

Condition read_condition(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    const auto text = r.string(node, "when");
    const auto parts = words(text);
    if (parts.size() == 1 && parts[0] == "not_ready") return Condition{Condition::Kind::not_ready, 0};
    if (parts.size() == 1 && parts[0] == "exited") return Condition{Condition::Kind::exited, 0};
    if (parts.size() == 1 && parts[0] == "signal_sent") return Condition{Condition::Kind::after_signal, 0};
    const auto threshold = parts.size() == 3 && parts[0] == "in_flight" && parts[1] == ">=" ? whole_number(parts[2]) : std::nullopt;
    if (!threshold) {
        r.fail(node, fmt::format("unknown condition '{}' (expected 'in_flight >= N', not_ready, exited or signal_sent)", printable(text)));
    }
    if (!ranges::in_flight.contains(*threshold)) {
        r.fail(node, fmt::format("in_flight >= N takes N from {} to {}", ranges::in_flight.min, ranges::in_flight.max));
    }
    if (const auto most = most_in_flight(s); most && *threshold > *most) {
        r.fail(node, fmt::format("'in_flight >= {}' can never hold: the workloads keep at most {} requests in flight", *threshold, *most));
    }
    return Condition{Condition::Kind::in_flight_at_least, *threshold};
}

// `to:` target, main, master (the main process: a prefork master is the target), group, workers,
// 'child N' (by pid) or 'worker N' (by start time).
void read_signal_target(const YamlReader& r, const YAML::Node& node, SignalAction& action) {
    const auto to = r.string(node, "to");
    const auto numbered = [&](std::string_view prefix) -> std::optional<std::int64_t> {
        if (!to.starts_with(prefix)) return std::nullopt;
        const auto index = whole_number(std::string_view(to).substr(prefix.size()));
        if (index && !ranges::child_index.contains(*index)) {
            r.fail(node, fmt::format("'{}N' takes N from {} to {}", prefix, ranges::child_index.min, ranges::child_index.max));
        }
        return index;
    };
    if (to == "target" || to == "main" || to == "master") {
        action.to = SignalTarget::main;
    } else if (to == "group") {
        action.to = SignalTarget::group;
    } else if (to == "workers") {
        action.to = SignalTarget::workers;
    } else if (const auto child = numbered("child ")) {
        action.to = SignalTarget::child;
        action.child_index = static_cast<int>(*child);
    } else if (const auto worker = numbered("worker ")) {
        action.to = SignalTarget::worker;
        action.child_index = static_cast<int>(*worker);
    } else {
        r.fail(node, fmt::format("unknown signal target '{}' (expected target, master, group, workers, 'child N' or 'worker N')", printable(to)));
    }
}

SignalPurpose read_purpose(const YamlReader& r, const YAML::Node& node) {
    const auto text = r.string(node, "purpose");
    if (text == "shutdown") return SignalPurpose::shutdown;
    if (text == "reload") return SignalPurpose::reload;
    if (text == "pause") return SignalPurpose::pause;
    if (text == "process") return SignalPurpose::process;
    r.fail(node, fmt::format("unknown purpose '{}' (expected shutdown, reload, pause or process)", printable(text)));
}

// The signal, its `to` and its `purpose` are read apart: a wrong one does not hide the others.
SignalAction read_signal(const YamlReader& r, const YAML::Node& node) {
    SignalAction action{};
    const bool signal_read = r.attempt([&] { action.signal = r.signal(node["signal"]); });
    const bool to_read = !node["to"] || r.attempt([&] { read_signal_target(r, node["to"], action); });
    if (node["purpose"]) r.attempt([&] { action.purpose = read_purpose(r, node["purpose"]); });
    else if (signal_read && to_read) action.purpose = default_purpose(action.signal, action.to);
    return action;
}

// `reload: true`: the target's reload signal to its main process, a reload by purpose.
SignalAction read_reload(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    if (!r.boolean(node, "reload")) r.fail(node, "reload must be true");
    return SignalAction{s.target.reload_signal, SignalTarget::main, 0, SignalPurpose::reload};
}

// `every: D, count: N`: the entry fires N times, D apart (the timeline expands it).
void read_repetition(const YamlReader& r, const YAML::Node& node, TimelineEntry& entry, bool keys_known) {
    if (node["every"].IsDefined() != node["count"].IsDefined()) {
        if (!keys_known) return;  // the other was said as an unknown key, misspelt
        r.fail(node["every"] ? node["every"] : node["count"], "'every' and 'count' go together");
    }
    if (!node["every"]) return;
    entry.every = r.duration(node["every"], "every", ranges::every);
    entry.count = static_cast<int>(r.integer(node["count"], "count", ranges::repeat_count));
}

// An entry fires at `at + delay`, or `delay` after its condition holds: before the run ends, or never.
void check_fires_before_end(const YamlReader& r, const YAML::Node& node, const TimelineEntry& entry, Duration max_duration) {
    const auto fires = entry.at.value_or(Duration::zero()) + entry.delay;
    const auto last = fires + entry.every * (entry.count - 1);
    if (fires < max_duration && last < max_duration) return;
    if (fires < max_duration) {
        r.fail(node["count"], fmt::format("the last of {} firings ({}) must be before limits.max_duration ({})", entry.count,
                                          format_duration(last), format_duration(max_duration)));
    }
    const auto what = !node["delay"] ? "at" : entry.at ? "at + delay" : "delay";
    r.fail(node["delay"] ? node["delay"] : node["at"], fmt::format("{} ({}) must be before limits.max_duration ({}): the entry would never fire",
                                                                   what, format_duration(fires), format_duration(max_duration)));
}

// Exactly one action; `entry.description` says what it was, as written, for events.jsonl.
void read_action(const YamlReader& r, const YAML::Node& node, const Scenario& s, TimelineEntry& entry, bool keys_known) {
    const auto defined_workload = [&](const YAML::Node& name_node) {
        const auto name = r.string(name_node, "workload name");
        if (!find_workload(s, name)) r.fail(name_node, fmt::format("workload '{}' is referenced but not defined", printable(name)));
        return name;
    };
    int actions = 0;
    if (node["signal"]) {
        ++actions;
        entry.action = read_signal(r, node);
        entry.description = "signal " + node["signal"].Scalar();
    } else if ((node["to"] || node["purpose"]) && keys_known) {
        r.fail(node["to"] ? node["to"] : node["purpose"], fmt::format("'{}' goes with 'signal'", node["to"] ? "to" : "purpose"));
    } else if (node["to"] || node["purpose"]) {
        // Beside an unknown key (`signl: TERM`, the signal misspelt) their values are still checked.
        SignalAction unsent{};
        if (node["to"]) r.attempt([&] { read_signal_target(r, node["to"], unsent); });
        if (node["purpose"]) r.attempt([&] { read_purpose(r, node["purpose"]); });
    }
    if (node["reload"]) {
        ++actions;
        entry.action = read_reload(r, node["reload"], s);
        entry.description = "reload";
    }
    if (const auto& value = node["stop_load"]) {
        ++actions;
        StopLoadAction action;
        if (value.IsSequence()) {
            for (const auto& item : value) action.workloads.push_back(defined_workload(item));
        } else if (!(value.IsScalar() && value.Scalar() == "all")) {
            action.workloads.push_back(defined_workload(value));
        }
        entry.action = action;
        entry.description = "stop_load";
    }
    if (node["start_load"]) {
        ++actions;
        entry.action = StartLoadAction{defined_workload(node["start_load"])};
        entry.description = "start_load " + std::get<StartLoadAction>(entry.action).workload;
    }
    if (node["pause"]) {
        ++actions;
        entry.action = PauseAction{r.duration(node["pause"], "pause", ranges::pause)};
        entry.description = "pause " + node["pause"].Scalar();
    }
    if (node["kill_if_alive"]) {
        ++actions;
        r.boolean(node["kill_if_alive"], "kill_if_alive");
        entry.action = KillIfAliveAction{};
        entry.description = "kill_if_alive";
    }
    if (node["restart_target"]) {
        ++actions;
        r.boolean(node["restart_target"], "restart_target");
        entry.action = RestartTargetAction{};
        entry.description = "restart_target";
    }
    if (actions > 1 || (actions == 0 && keys_known)) {
        r.fail(node, "a timeline entry needs exactly one action: signal, reload, stop_load, start_load, pause, kill_if_alive or restart_target");
    }
}

} // namespace

TimelineEntry read_timeline_entry(const YamlReader& r, const YAML::Node& node, const Scenario& s) {
    r.expect_map(node, "a timeline entry");
    // An unknown key is said and the entry still read; a key it then misses is not said missing
    // (`sginal: TERM` was the action, misspelt).
    const bool keys_known = r.check_keys(node, "a timeline entry", {"at", "when", "delay", "every", "count", "signal", "to", "purpose", "reload",
                                                                    "stop_load", "start_load", "pause", "kill_if_alive", "restart_target"});
    // Each part read apart, so that every wrong value of the entry is said at once; the caller
    // counts the errors kept to know the entry did not read.
    TimelineEntry entry;
    const bool at_read = !node["at"] || r.attempt([&] { entry.at = r.duration(node["at"], "at", ranges::at); });
    const bool when_read = !node["when"] || r.attempt([&] { entry.when = read_condition(r, node["when"], s); });
    const bool when_said = node["at"] || node["when"];
    if (node["at"] && node["when"]) r.attempt([&] { r.fail(node, "a timeline entry needs exactly one of 'at' or 'when'"); });
    if (!when_said && keys_known) r.attempt([&] { r.fail(node, "a timeline entry needs exactly one of 'at' or 'when'"); });
    const bool delay_read = !node["delay"] || r.attempt([&] { entry.delay = r.duration(node["delay"], "delay", ranges::delay); });
    const bool repetition_read = r.attempt([&] { read_repetition(r, node, entry, keys_known); });
    if (at_read && when_read && delay_read && repetition_read && (entry.at || entry.when)) {
        r.attempt([&] { check_fires_before_end(r, node, entry, s.max_duration); });
    }
    r.attempt([&] { read_action(r, node, s, entry, keys_known); });
    return entry;
}

} // namespace lastcall::harness
