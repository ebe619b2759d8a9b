// The trial writer: edits the scenario's own YAML tree, so whatever the trial does not vary is
// written exactly as the scenario said it.
#include "trial_yaml.hpp"

#include "signals.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace lastcall::harness::explore {

namespace {

std::string ms(Duration d) { return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d)); }

YAML::Node workloads_node(const YAML::Node& written, const Scenario& s, const Trial& trial) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& t : trial.workloads) {
        const auto it = std::find_if(s.workloads.begin(), s.workloads.end(), [&](const Workload& w) { return w.name == t.name; });
        const auto index = static_cast<std::size_t>(it - s.workloads.begin());
        if (it == s.workloads.end() || !written.IsSequence() || index >= written.size()) {
            throw std::runtime_error("trial workload '" + t.name + "' is not in the scenario file");
        }
        YAML::Node w = YAML::Clone(written[index]);
        if (it->mode == LoadMode::open) w["rate"] = fmt::format("{}/s", static_cast<long long>(t.rate));
        else w["connections"] = t.connections;
        out.push_back(w);
    }
    return out;
}

YAML::Node after_first_signal(const Trial& trial) {
    YAML::Node node(YAML::NodeType::Map);
    node["when"] = "signal_sent";
    node["delay"] = ms(trial.follow_up);
    return node;
}

YAML::Node timeline_node(const YAML::Node& written, const Trial& trial) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto at : trial.reloads) {
        YAML::Node reload(YAML::NodeType::Map);
        reload["at"] = ms(at);
        reload["reload"] = true;
        out.push_back(reload);
    }
    YAML::Node first(YAML::NodeType::Map);
    if (trial.sequence == SignalSequence::reload_only) {
        first["at"] = ms(trial.moment.at);
        first["stop_load"] = "all";  // then lastcall ends the target as at any run's end
    } else if (trial.moment.in_flight_at_least) {
        first["when"] = fmt::format("in_flight >= {}", *trial.moment.in_flight_at_least);
        first["delay"] = ms(trial.moment.delay);
    } else {
        first["at"] = ms(trial.moment.at);
    }
    if (trial.sequence != SignalSequence::reload_only) {
        first["signal"] = signal_name(trial.sequence == SignalSequence::fast ? trial.fast_signal : trial.graceful_signal);
    }
    out.push_back(first);
    YAML::Node next = after_first_signal(trial);
    switch (trial.sequence) {
    case SignalSequence::graceful_then_kill: next["kill_if_alive"] = true; out.push_back(next); break;
    case SignalSequence::graceful_twice: next["signal"] = signal_name(trial.graceful_signal); out.push_back(next); break;
    case SignalSequence::pause_while_draining: next["pause"] = ms(trial.pause); out.push_back(next); break;
    default: break;
    }
    // The follow-up must not reach a restarted generation (a second TERM into the read-back's
    // server made it answer 503): the scenario's `when: exited` entries wait until it has fired.
    const auto follow_up_ends = trial.follow_up + trial.pause + std::chrono::milliseconds(50);
    for (const auto index : trial.kept_entries) {
        if (!written.IsSequence() || index >= written.size()) throw std::runtime_error("kept timeline entry is not in the scenario file");
        YAML::Node kept = YAML::Clone(written[index]);
        const YAML::Node& read = kept;
        const bool on_exit = read["when"] && read["when"].IsScalar() && read["when"].Scalar() == "exited";
        if (on_exit && trial.follow_up > Duration::zero()) {
            const auto delay = read["delay"] ? parse_duration(read["delay"].Scalar()).value_or(Duration::zero()) : Duration::zero();
            if (delay < follow_up_ends) kept["delay"] = ms(follow_up_ends);
        }
        out.push_back(kept);
    }
    return out;
}

bool is_off(const YAML::Node& node) { return node && node.IsScalar() && node.Scalar() == "off"; }

// What the trial's own signals make expected: its SIGKILL an exit (and the streams it cuts); after a fast shutdown (or a
// second graceful signal, which is "now" to many servers) drops, cut streams and a non-zero exit.
void adapt_expect(YAML::Node& doc, const Trial& trial) {
    const YAML::Node& read = doc;
    if (!read["expect"] || !read["expect"].IsMap()) doc["expect"] = YAML::Node(YAML::NodeType::Map);
    YAML::Node expect = doc["expect"];
    const YAML::Node& written = expect;  // reads through a const node never add a key
    switch (trial.sequence) {
    case SignalSequence::graceful_then_kill: {
        const YAML::Node exit = written["exit"] ? YAML::Clone(written["exit"]) : YAML::Node();
        if (is_off(exit)) break;
        YAML::Node exits(YAML::NodeType::Sequence);
        if (!exit || exit.IsNull()) exits.push_back("0");
        else if (exit.IsSequence()) for (const auto& item : exit) exits.push_back(item);
        else exits.push_back(exit);
        exits.push_back("SIGKILL");
        expect["exit"] = exits;
        // A stream still open when the trial's SIGKILL lands fails streams_clean, though the kill
        // cut it (as requests it cut are `unknown`): explore's first 10-minute run against the
        // correct server found exactly that, SIGKILL 1 ms after TERM.
        expect["streams_clean"] = "off";
        if (written["streams_resumed"]) expect["streams_resumed"] = "off";  // a killed stream was not ended by shutdown
        break;
    }
    case SignalSequence::fast:
    case SignalSequence::graceful_twice:
        for (const char* key : {"dropped", "exit", "streams_clean", "close_announced", "shutdown_time", "drain_tail", "workers_drained"}) expect[key] = "off";
        if (written["streams_resumed"]) expect["streams_resumed"] = "off";
        if (!written["idle_close_race"] || written["idle_close_race"].Scalar() == "fail") expect["idle_close_race"] = "tolerate";
        break;
    case SignalSequence::pause_while_draining:
        // The target was stopped for `pause` of its shutdown: its bounds stretch by as much.
        for (const char* key : {"shutdown_time", "drain_tail"}) {
            const YAML::Node bound = written[key];
            if (!bound || is_off(bound)) continue;
            if (const auto d = parse_duration(bound.Scalar())) expect[key] = format_duration(*d + trial.pause);
        }
        break;
    case SignalSequence::graceful:
    case SignalSequence::reload_only: break;
    }
    if (!trial.reloads.empty()) {
        // What a reload run needs (scenarios/prefork-reload.yaml): nothing dropped or refused across
        // it. A retiring worker closes its idle keep-alive connections, now and then under a request
        // already on its way: the race is tolerated (counted), not a failure of the reload.
        if (!written["zero_downtime"] || is_off(written["zero_downtime"])) expect["zero_downtime"] = true;
        if (!written["idle_close_race"] || written["idle_close_race"].Scalar() == "fail") expect["idle_close_race"] = "tolerate";
    }
}

} // namespace

std::string trial_name(const std::string& scenario_name, const std::string& suffix) {
    const auto room = 64 - std::min<std::size_t>(63, suffix.size() + 1);
    return scenario_name.substr(0, room) + "-" + suffix;
}

std::string trial_scenario_yaml(const std::string& scenario_text, const Scenario& scenario, const Trial& trial, const TrialFile& file) {
    YAML::Node doc = YAML::Load(scenario_text);
    if (!doc.IsMap()) throw std::runtime_error("the scenario file is not a mapping");
    doc["name"] = file.name;
    doc["description"] = file.description;
    if (!file.extra_target_args.empty()) {
        YAML::Node command = doc["target"]["command"];
        for (const auto& arg : file.extra_target_args) command.push_back(arg);
    }
    const YAML::Node& read = doc;
    const auto written = [&](const char* key) { return read[key] ? YAML::Clone(read[key]) : YAML::Node(); };
    doc["workloads"] = workloads_node(written("workloads"), scenario, trial);
    doc["timeline"] = timeline_node(written("timeline"), trial);
    doc.remove("explore");  // the trial is one shape: the file stands as an ordinary scenario
    doc.remove("jitter");   // the trial's moments are exact
    doc.remove("repeat");
    doc["seed"] = trial.seed;
    adapt_expect(doc, trial);

    YAML::Emitter out;
    out << doc;
    std::string text;
    for (const auto& line : file.header) text += "# " + line + "\n";
    return text + out.c_str() + "\n";
}

} // namespace lastcall::harness::explore
