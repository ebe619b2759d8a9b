#include "scenario_loader.hpp"

#include "scenario_sections.hpp"
#include "sha256.hpp"
#include "text_rules.hpp"
#include "yaml_document.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <variant>

namespace lastcall::harness {

namespace {

namespace fs = std::filesystem;

// A workload that did not read stands in for itself as the most permissive one (open loop, with
// a job and resumed streams; any name when its own did not read), so that what refers to it (a
// timeline's stop_load, in_flight >= N, acked_writes, jobs_accounted, streams_resumed) adds no
// error of its own: the file's errors are said, not their echoes.
Workload stand_in(const YAML::Node& node) {
    Workload w;
    const auto& name = node.IsMap() ? node["name"] : YAML::Node();
    if (name && name.IsScalar() && is_safe_name(name.Scalar())) w.name = name.Scalar();
    w.mode = LoadMode::open;
    w.job = JobContract{};
    w.stream.resume = true;
    return w;
}

std::vector<Workload> read_workloads(const YamlReader& r, const YAML::Node& node, Duration max_duration) {
    if (!node.IsSequence()) r.fail(node, "workloads must be a list");
    std::vector<Workload> workloads;
    for (const auto& item : node) {
        const auto errors_before = r.errors().size();
        std::optional<Workload> read;
        r.attempt([&] { read = read_workload(r, item, max_duration); });
        if (!read || r.errors().size() != errors_before) {
            workloads.push_back(stand_in(item));
            continue;
        }
        workloads.push_back(std::move(*read));
        const auto& name = workloads.back().name;
        const auto same = [&](const Workload& w) { return w.name == name; };
        if (std::count_if(workloads.begin(), workloads.end(), same) > 1) {
            r.attempt([&] { r.fail(item["name"], fmt::format("workload '{}' is defined twice", name)); });
        }
    }
    return workloads;
}

// A signal to the target or any of its processes (a shutdown; a reload, as explore shrinks a
// reload's failure to, after which lastcall ends the target itself once the load is done; a child
// killed, after which the target may end on its own), or a SIGKILL when alive. Not a STOP/CONT
// pause alone: it ends nothing.
bool acts_on_the_target(const TimelineEntry& e) {
    if (std::holds_alternative<KillIfAliveAction>(e.action)) return true;
    const auto* signal = std::get_if<SignalAction>(&e.action);
    return signal && signal->purpose != SignalPurpose::pause;
}

// A scenario run as written must test a shutdown: without a timeline step that ends the target it
// runs until limits.max_duration and fails `exit` there (lastcall killed it), or, with no load,
// passes having tested nothing.
// `top_keys_known`: no unknown key at the top (`timline:` is the timeline, misspelt: not said
// missing); `max_duration_known`: limits.max_duration is the file's or its default, not a value
// meant under a misspelt key (`max_durration: 15s`), which the message would otherwise quote.
void check_tests_a_shutdown(const YamlReader& r, const YAML::Node& root, const Scenario& s, ScenarioUse use, bool top_keys_known,
                            bool max_duration_known) {
    if (use == ScenarioUse::model || use == ScenarioUse::explore) return;
    if (use == ScenarioUse::validate && root["explore"]) return;  // explore's scenario: explore writes the signals
    if (std::any_of(s.timeline.begin(), s.timeline.end(), acts_on_the_target)) return;
    if (!root["timeline"] && !top_keys_known) return;
    const auto limit = max_duration_known ? fmt::format("limits.max_duration ({})", format_duration(s.max_duration)) : std::string("limits.max_duration");
    const auto why = fmt::format("nothing would end the target before {}, where lastcall kills it, and no shutdown "
                                 "would be tested; add one, like `timeline: [{{at: 2s, signal: TERM}}]`",
                                 limit);
    const auto for_explore = root["explore"] ? " (a scenario for lastcall explore, which writes the signals itself: lastcall explore FILE)" : "";
    if (!root["timeline"]) r.fail(root, fmt::format("the scenario has no timeline: {}{}", why, for_explore));
    // "(but STOP/CONT)" only where the timeline has such a step: `timeline: []` has none.
    const bool pauses = std::any_of(s.timeline.begin(), s.timeline.end(), [](const TimelineEntry& e) {
        if (std::holds_alternative<PauseAction>(e.action)) return true;
        const auto* signal = std::get_if<SignalAction>(&e.action);
        return signal && signal->purpose == SignalPurpose::pause;
    });
    r.fail(root["timeline"], fmt::format("the timeline sends the target no signal{}, no kill_if_alive and no reload: {}{}",
                                         pauses ? " (but STOP/CONT)" : "", why, for_explore));
}

// Read in dependency order, not file order: the workloads and the timeline are checked against
// limits.max_duration, the timeline and expect: against the workloads. Each independent part is
// read through attempt(): an error is kept and the next part read (what depends on a part that
// failed is read so as to add no error of its own); the errors are thrown together at the end.
Scenario read_parts(const YamlReader& r, const YAML::Node& root, const std::string& file, ScenarioUse use) {
    if (!root.IsMap()) r.fail(root, "a scenario must be a mapping with name, target and workloads");
    // Unknown keys at the top do not stop the reading; a missing name or target is then not said
    // (`nmae:` is the name, misspelt).
    const bool keys_known = r.check_keys(root, "the scenario", {"name", "description", "target", "workloads", "timeline", "limits", "threads",
                                                                "repeat", "jitter", "seed", "expect", "proxy", "explore"});
    Scenario s;
    s.file = file;
    r.attempt([&] {
        if (!root["name"] && keys_known) r.fail(root, "a scenario needs a name");
        if (root["name"]) s.name = read_name(r, root["name"], "name");
    });
    if (root["description"]) r.attempt([&] { s.description = r.string(root["description"], "description"); });
    bool max_duration_known = true;
    if (const auto& limits = root["limits"]) {
        r.attempt([&] {
            r.expect_map(limits, "limits");
            max_duration_known = r.check_keys(limits, "limits", {"max_duration", "history_bytes"}) || limits["max_duration"];
            const bool read = !limits["max_duration"] || r.attempt([&] {
                s.max_duration = r.duration(limits["max_duration"], "limits.max_duration", ranges::max_duration);
            });
            // Nothing is then too late for it: the entries and workloads checked against it add no error.
            if (!read) s.max_duration = ranges::max_duration.max;
            if (limits["history_bytes"]) {
                r.attempt([&] {
                    s.history_bytes = static_cast<std::uint64_t>(r.integer(limits["history_bytes"], "limits.history_bytes", ranges::history_bytes));
                });
            }
        });
    }
    r.attempt([&] {
        if (!root["target"] && keys_known) r.fail(root, "a scenario needs a target");
        if (root["target"]) s.target = read_target(r, root["target"]);
    });
    if (root["workloads"]) r.attempt([&] { s.workloads = read_workloads(r, root["workloads"], s.max_duration); });
    bool timeline_read = true;
    if (const auto& timeline = root["timeline"]) {
        timeline_read = r.attempt([&] {
            if (!timeline.IsSequence()) r.fail(timeline, "timeline must be a list");
            for (const auto& node : timeline) {
                // An entry with an unknown key reads without throwing, but did not read as meant.
                const auto errors_before = r.errors().size();
                if (!r.attempt([&] { s.timeline.push_back(read_timeline_entry(r, node, s)); }) || r.errors().size() != errors_before) {
                    timeline_read = false;
                }
            }
        }) && timeline_read;
    }
    if (timeline_read) r.attempt([&] { check_tests_a_shutdown(r, root, s, use, keys_known, max_duration_known); });  // an entry that did not read may have been it
    if (root["proxy"]) r.attempt([&] { s.proxy = read_proxy(r, root["proxy"]); });
    if (root["threads"]) r.attempt([&] { s.threads = static_cast<int>(r.integer(root["threads"], "threads", ranges::threads)); });
    if (root["repeat"]) r.attempt([&] { s.repeat = static_cast<int>(r.integer(root["repeat"], "repeat", ranges::repeat)); });
    if (const auto& jitter = root["jitter"]) {
        r.attempt([&] {
            s.jitter = r.duration(jitter, "jitter", ranges::jitter);
            if (s.jitter > s.max_duration) {
                r.fail(jitter, fmt::format("jitter ({}) must not exceed limits.max_duration ({})", format_duration(s.jitter),
                                           format_duration(s.max_duration)));
            }
        });
    }
    if (root["seed"]) r.attempt([&] { s.seed = static_cast<std::uint64_t>(r.integer(root["seed"], "seed", ranges::seed)); });
    if (const auto& expect = root["expect"]) {
        r.attempt([&] {
            s.expect = read_expectations(r, expect, s);
            YAML::Emitter out;
            out << expect;
            s.expect_yaml = out.c_str();
        });
    }
    // A set's elements come from the writes' replies: that workload keeps the value there.
    if (const auto& a = s.expect.acked_writes; a && a->model == Expectations::AckedWrites::Model::set &&
                                               a->element_from == Expectations::AckedWrites::ElementFrom::reply) {
        for (auto& w : s.workloads) {
            if (w.name == a->workload && !w.job) w.keep_reply_value = a->element_pointer;
        }
    }
    if (!s.expect.streams_clean) {
        s.expect.streams_clean = std::any_of(s.workloads.begin(), s.workloads.end(),
                                             [](const Workload& w) { return w.kind == WorkloadKind::stream; });
    }
    return s;
}

// The scenario, or every error of the file at once (at most YamlReader::max_errors), in file order.
Scenario read_scenario(const YAML::Node& root, const std::string& file, ScenarioUse use) {
    const YamlReader r(file);
    std::optional<Scenario> s;
    bool cut_short = false;
    try {
        s = read_parts(r, root, file, use);
    } catch (const YamlReader::ErrorLimit&) {
        cut_short = true;
    } catch (const ScenarioError& e) {
        if (r.errors().empty()) throw;  // the root itself: nothing else was read
        auto errors = r.errors();
        errors.push_back(e);
        throw ScenarioError::several(std::move(errors), false);
    }
    if (!r.errors().empty()) throw ScenarioError::several(r.errors(), cut_short);
    return *s;
}

// At most max_file_bytes + 1 bytes: enough to tell a file that is too large, and /dev/zero ends.
std::string read_text(const fs::path& file) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
    if (!in) throw ScenarioError(file.string(), fmt::format("cannot read the file: {}", std::strerror(errno)));
    std::string text(yaml_limits::max_file_bytes + 1, '\0');
    const auto size = std::fread(text.data(), 1, text.size(), in.get());
    if (std::ferror(in.get())) throw ScenarioError(file.string(), fmt::format("cannot read the file: {}", std::strerror(errno)));
    text.resize(size);
    return text;
}

// Explains why a directory given as a scenario holds none.
[[noreturn]] void fail_directory(const fs::path& directory) {
    std::error_code ec;
    fs::directory_iterator listing(directory, ec);
    if (ec) throw ScenarioError(directory.string(), fmt::format("cannot read the directory: {}", ec.message()));
    throw ScenarioError(directory.string(), "no scenario files (*.yaml, *.yml) in this directory");
}

} // namespace

Scenario read_scenario_document(const YAML::Node& root, const std::string& file_name) {
    try {
        return read_scenario(root, file_name, ScenarioUse::model);
    } catch (const ScenarioError&) {
        throw;
    } catch (const std::exception& e) {
        throw ScenarioError(file_name, 1, 1, fmt::format("internal error reading the scenario: {}", e.what()));
    }
}

Scenario load_scenario_text(const std::string& text, const std::string& file_name, const ScenarioVariables& variables, ScenarioUse use) {
    try {
        auto root = parse_yaml_document(text, file_name);
        substitute_variables(root, file_name, variables);
        auto scenario = read_scenario(root, file_name, use);
        Sha256 digest;
        digest.update(text);
        scenario.sha256 = digest.hex_digest();
        return scenario;
    } catch (const ScenarioError&) {
        throw;
    } catch (const std::exception& e) {
        // A reader asked yaml-cpp for something the document does not have, or another bug here:
        // still an error in the file rather than a crash of the whole suite. The fuzz test fails
        // on this text.
        throw ScenarioError(file_name, 1, 1, fmt::format("internal error reading the scenario: {}", e.what()));
    }
}

Scenario load_scenario_file(const fs::path& file, const ScenarioVariables& variables, ScenarioUse use) {
    std::error_code ec;
    if (fs::is_directory(file, ec)) fail_directory(file);
    return load_scenario_text(read_text(file), file.string(), variables, use);
}

std::vector<fs::path> scenario_files(const std::vector<std::string>& arguments) {
    std::vector<fs::path> files;
    for (const auto& argument : arguments) {
        const fs::path path(argument);
        std::error_code ec;
        if (!fs::is_directory(path, ec)) {
            files.push_back(path);
            continue;
        }
        std::vector<fs::path> inside;
        for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            const auto ext = it->path().extension();
            std::error_code type_ec;
            if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(type_ec)) inside.push_back(it->path());
        }
        std::sort(inside.begin(), inside.end());
        if (inside.empty()) inside.push_back(path);  // load_scenario_file says why
        files.insert(files.end(), inside.begin(), inside.end());
    }
    return files;
}

} // namespace lastcall::harness
