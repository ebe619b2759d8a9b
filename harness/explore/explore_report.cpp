// explore's report: trials, failures, each finding with its reproduction, failures by kind.
#include "explore_report.hpp"

#include "shrinker.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace lastcall::harness::explore {

namespace {

std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string reproduction(const Finding& f) {
    if (f.reruns == 0) return "reproduction not measured (interrupted)";
    std::string each;  // only when the checks did not all come back together
    for (const auto& [check, times] : f.reproduced_by_check) each += fmt::format("{}{} {}/{}", each.empty() ? "" : ", ", check, times, f.reruns);
    const bool all_alike = std::all_of(f.reproduced_by_check.begin(), f.reproduced_by_check.end(),
                                       [&](const auto& entry) { return entry.second == f.reproduced; });
    return fmt::format("fails {} of {} re-runs{}{}", f.reproduced, f.reruns, f.flaky() ? " (flaky)" : "",
                       all_alike || f.reproduced_by_check.size() < 2 ? "" : fmt::format(" ({})", each));
}

// A group's evidence shape in its parts: per failing check its message, then each kind of evidence
// (numbers blanked, as add_to_group compared them).
std::set<std::string> shape_parts(const std::string& shape) {
    std::set<std::string> parts;
    std::size_t from = 0;
    while (from <= shape.size()) {
        auto to = std::min(shape.find('\n', from), shape.find(" | ", from));
        if (to == std::string::npos) to = shape.size();
        if (to > from) parts.insert(shape.substr(from, to - from));
        from = to + (to < shape.size() && shape[to] == '\n' ? 1 : 3);
    }
    return parts;
}

std::string only_in(const std::set<std::string>& these, const std::set<std::string>& those) {
    std::string out;
    for (const auto& p : these) {
        if (those.count(p) == 0) out += (out.empty() ? "'" : "', '") + p;
    }
    return out.empty() ? "nothing of its own" : out + "'";
}

}  // namespace

std::vector<FindingDifference> finding_differences(const ExploreSummary& s) {
    std::vector<FindingDifference> out(s.findings.size());
    const auto group_of = [&](std::size_t finding) -> const FailureGroup* {
        for (const auto& g : s.groups) {
            if (g.finding == static_cast<int>(finding)) return &g;
        }
        return nullptr;
    };
    for (std::size_t i = 0; i < s.findings.size(); ++i) {
        const auto* mine = group_of(i);
        if (mine == nullptr) continue;
        for (std::size_t j = 0; j < s.findings.size(); ++j) {
            const auto* theirs = j == i ? nullptr : group_of(j);
            if (theirs == nullptr || theirs->checks != mine->checks) continue;
            const auto here = shape_parts(mine->shape), there = shape_parts(theirs->shape);
            out[i] = {s.findings[j].name, only_in(here, there), only_in(there, here)};
            break;
        }
    }
    return out;
}

namespace {

nlohmann::json trial_json(const Trial& t) {
    nlohmann::json workloads = nlohmann::json::array();
    for (const auto& w : t.workloads) {
        workloads.push_back(w.rate > 0 ? nlohmann::json{{"name", w.name}, {"rate", w.rate}} : nlohmann::json{{"name", w.name}, {"connections", w.connections}});
    }
    return {{"description", describe(t)}, {"shape", t.shape_name}, {"size", trial_size(t)}, {"sequence", std::string(to_string(t.sequence))}, {"workloads", workloads},
            {"seed", t.seed}};
}

} // namespace

std::string text_report(const ExploreSummary& s) {
    std::string out = fmt::format("\nexplore {} (seed {}, budget {:.0f}s): {} trials in {:.1f}s, {} failed", s.scenario, s.seed, s.budget_s,
                                  s.trials, s.elapsed_s, s.failures);
    if (s.first_failure_s) out += fmt::format(" (first after {:.1f}s)", *s.first_failure_s);
    if (s.errors > 0) out += fmt::format(", {} not run", s.errors);
    out += fmt::format(", {} shrink runs{}\n", s.shrink_runs, s.interrupted ? "; interrupted" : "");
    for (const auto& e : s.error_messages) out += fmt::format("  not run: {}\n", e);
    const auto differences = finding_differences(s);
    for (std::size_t i = 0; i < s.findings.size(); ++i) {
        const auto& f = s.findings[i];
        out += fmt::format("\nFINDING {}: {}; {}; {} trial(s) failed this way\n", f.name, join(f.minimal_checks()), reproduction(f), f.seen);
        if (const auto& d = differences[i]; !d.other.empty()) {
            out += fmt::format("  apart from {}: the same failing checks, other evidence: here {}; there {}\n", d.other, d.here, d.there);
        }
        out += fmt::format("  minimal:  {} (size {})\n", describe(f.minimal), trial_size(f.minimal));
        out += fmt::format("  from:     trial {}: {} (size {}), {} shrink runs{}\n", f.trial_number, describe(f.original), trial_size(f.original),
                           f.shrink_runs, f.shrink_stopped ? ", stopped by the budget" : "");
        out += fmt::format("  scenario: {}   (lastcall run {})\n", f.file.string(), f.file.string());
        for (const auto& c : f.failed) {
            out += fmt::format("  {}: {} (bound {}) {}\n", c.name, c.measured, c.bound, c.message);
            for (const auto& line : c.evidence) out += fmt::format("    {}\n", line);
        }
        if (!f.run_dir.empty()) out += fmt::format("  run:      {}\n", (f.run_dir / "report.html").string());
    }
    if (!s.groups.empty()) out += "\nfailures by kind:\n";
    for (const auto& g : s.groups) {
        std::string trials;
        for (const auto n : g.trials) trials += fmt::format("{}{}", trials.empty() ? "" : " ", n);
        out += fmt::format("  {}: {} trial(s) [{}]{}\n", join(g.checks), g.trials.size(), trials,
                           g.finding >= 0 ? " -> " + s.findings[static_cast<std::size_t>(g.finding)].name : "");
    }
    if (s.failures == 0 && !s.interrupted) out += "nothing failed\n";
    return out;
}

std::string json_report(const ExploreSummary& s) {
    nlohmann::json findings = nlohmann::json::array();
    const auto differences = finding_differences(s);
    for (std::size_t i = 0; i < s.findings.size(); ++i) {
        const auto& f = s.findings[i];
        const auto& d = differences[i];
        nlohmann::json failed = nlohmann::json::array();
        for (const auto& c : f.failed) {
            failed.push_back({{"name", c.name}, {"bound", c.bound}, {"measured", c.measured}, {"message", c.message}, {"evidence", c.evidence}});
        }
        findings.push_back({{"name", f.name}, {"file", f.file.string()}, {"run_dir", f.run_dir.string()}, {"trial", f.trial_number},
                            {"failing_checks", f.checks}, {"minimal_failing_checks", f.minimal_checks()}, {"trials_failed", f.seen}, {"checks", failed}, {"original", trial_json(f.original)}, {"minimal", trial_json(f.minimal)},
                            {"shrink_runs", f.shrink_runs}, {"shrink_stopped", f.shrink_stopped}, {"reproduced", f.reproduced},
                            {"reruns", f.reruns}, {"flaky", f.flaky()},
                            {"reproduced_by_check", f.reproduced_by_check},
                            {"apart_from", d.other.empty() ? nlohmann::json() : nlohmann::json{{"finding", d.other}, {"here", d.here}, {"there", d.there}}}});
    }
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : s.groups) {
        std::vector<std::string> dirs;
        for (const auto& d : g.run_dirs) dirs.push_back(d.string());
        groups.push_back({{"failing_checks", g.checks}, {"evidence_shape", g.shape}, {"trials", g.trials}, {"run_dirs", dirs},
                          {"finding", g.finding >= 0 ? nlohmann::json(s.findings[static_cast<std::size_t>(g.finding)].name) : nlohmann::json()}});
    }
    const nlohmann::json out{{"version", 1},
                             {"scenario", s.scenario},
                             {"seed", s.seed},
                             {"budget_s", s.budget_s},
                             {"elapsed_s", s.elapsed_s},
                             {"trials", s.trials},
                             {"failures", s.failures},
                             {"not_run", s.errors},
                             {"not_run_reasons", s.error_messages},
                             {"shrink_runs", s.shrink_runs},
                             {"first_failure_s", s.first_failure_s ? nlohmann::json(*s.first_failure_s) : nlohmann::json()},
                             {"interrupted", s.interrupted},
                             {"findings", findings},
                             {"groups", groups}};
    return out.dump(2);
}

} // namespace lastcall::harness::explore
