#include "run_diff.hpp"

#include "checks.hpp"
#include "text_columns.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace lastcall::reports {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The one run a report holds: a run's report.json is the run; a suite's must hold exactly one.
json the_run(const std::string& text, const std::string& name) {
    const auto doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) throw ReportError(name + ": not JSON (a run's report.json, or a suite's of one run)");
    if (!doc.contains("version") || !doc["version"].is_number_integer()) throw ReportError(name + ": not a lastcall report (no version)");
    if (doc["version"] != 1) throw ReportError(fmt::format("{}: report version {}, this lastcall reads version 1", name, doc["version"].dump()));
    if (doc.contains("runs")) {
        if (!doc["runs"].is_array() || doc["runs"].size() != 1) {
            throw ReportError(fmt::format("{}: a suite report of {} runs; name one run's directory instead", name,
                                          doc["runs"].is_array() ? doc["runs"].size() : 0));
        }
        return doc["runs"][0];
    }
    if (!doc.contains("checks") || !doc["checks"].is_array()) throw ReportError(name + ": not a lastcall report (no checks)");
    return doc;
}

std::string read_report(const fs::path& path) {
    const auto file = fs::is_directory(path) ? path / "report.json" : path;
    std::ifstream in(file);
    if (!in) throw ReportError(file.string() + ": cannot read the file" + (fs::exists(file) ? "" : ": No such file or directory"));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string text_of(const json& j, const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); }

std::optional<double> number_of(const json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? std::optional<double>(j[key].get<double>()) : std::nullopt;
}

// A measured string that is only a number ("3", "+0") says more with its unit; any other ("212.4ms",
// "2 of 2 ran", "killed by SIGTERM") is shown as the console shows it. The raw value alone can
// mislead: workloads_ran's value counts the workloads that made no request, 0 when all ran.
bool bare_number(const std::string& text) {
    static const std::regex number(R"([+-]?[0-9]+(\.[0-9]+)?)");
    return std::regex_match(text, number);
}

CheckSide side_of(const json& check) {
    CheckSide side{text_of(check, "status"), text_of(check, "measured"), number_of(check, "value"), text_of(check, "unit"),
                   text_of(check, "bound") == harness::measured_only_bound};
    if (side.measured == "-") side.measured.clear();  // a skipped check measured nothing
    if (bare_number(side.measured) && !side.unit.empty()) side.measured += " " + side.unit;
    return side;
}

// Named by the path the user gave (what they typed, and can type again); the run directory saved in
// the report is added where it says more: the run was moved or copied, or comes from another
// machine or another working directory. A suite's report.json is the run's directory too.
std::string title_of(const json& run, const std::string& given) {
    const auto saved = text_of(run, "run_dir");
    std::error_code ec;
    const fs::path path(given);
    const auto directory = fs::is_directory(path, ec) ? path : path.parent_path();
    const auto same = [&ec](const fs::path& x, const fs::path& y) { return fs::weakly_canonical(x, ec) == fs::weakly_canonical(y, ec); };
    const bool says_more = !saved.empty() && !same(directory, saved);
    return fmt::format("{} ({}{})", text_of(run, "scenario"), given, says_more ? "; saved as " + saved : std::string());
}

// Two runs of one scenario compare a service with itself; of two scenarios, the load, the signals
// and the bounds differ too. Reports written before the file's SHA-256 was kept are compared by
// name alone.
std::string scenario_warning(const json& a, const json& b) {
    const auto name_a = text_of(a, "scenario"), name_b = text_of(b, "scenario");
    const auto sha_a = text_of(a, "scenario_sha256"), sha_b = text_of(b, "scenario_sha256");
    const bool other_file = !sha_a.empty() && !sha_b.empty() && sha_a != sha_b;
    const auto files = fmt::format("{} sha256 {}, {} sha256 {}", text_of(a, "file"), sha_a.substr(0, 12), text_of(b, "file"), sha_b.substr(0, 12));
    if (name_a != name_b) {
        return fmt::format("warning: A and B are runs of different scenarios ('{}' and '{}'{}): a check can differ because the "
                           "scenarios do, not the service",
                           name_a, name_b, other_file ? "; " + files : "");
    }
    if (other_file) {
        return fmt::format("warning: the scenario '{}' was not the same file in A and B ({}): its load, signals or bounds may "
                           "have changed, not only the service",
                           name_a, files);
    }
    return "";
}

// A setup error is the report's `error`; a run not made, its `skipped` (null when it ran).
std::optional<NotRun> not_run_of(const json& run) {
    if (const auto error = text_of(run, "error"); !error.empty()) return NotRun{true, error};
    if (const auto skipped = text_of(run, "skipped"); !skipped.empty()) return NotRun{false, skipped};
    return std::nullopt;
}

// Said above the table, with the exit status `lastcall run` gave it and its words (the last lines
// of the target's stderr among them, indented under the first).
std::string not_run_line(const char* which, const NotRun& n) {
    std::string why;
    std::istringstream lines(n.why);
    for (std::string line; std::getline(lines, line);) why += (why.empty() ? "" : "\n   ") + line;
    return n.setup_error ? fmt::format("{} could not run: setup error (`lastcall run` exited 3): {}\n", which, why)
                         : fmt::format("{} was not made: skipped (`lastcall run` exited 0, 3 with --strict): {}\n", which, why);
}

std::string not_run_summary(const RunDiff& d) {
    const auto what = [](const NotRun& n) { return n.setup_error ? "setup error, exit 3" : "skipped"; };
    std::string who;
    if (d.a_not_run && d.b_not_run) {
        who = fmt::format("A and B did not run (A: {}; B: {})", what(*d.a_not_run), what(*d.b_not_run));
    } else {
        who = fmt::format("{} did not run ({})", d.a_not_run ? "A" : "B", what(d.a_not_run ? *d.a_not_run : *d.b_not_run));
    }
    return fmt::format("\nno verdict compared: {}; {} checks were never judged\n", who, d.a_not_run && d.b_not_run ? "their" : "its");
}

std::string shown(const CheckSide& s) {
    if (s.status == "-") return "-";
    const auto word = s.info ? std::string("info") : s.status == "fail" ? std::string("FAIL") : s.status;
    return s.measured.empty() ? word : word + " " + s.measured;
}

// A ratio of two durations or of two counts of things says how much more or less; of two exit
// statuses, two counter values or two fd growths (+0 -> +2) it says nothing.
bool ratio_means_something(const std::string& unit) {
    static const std::set<std::string> quantities{"ms", "requests", "responses", "streams", "jobs", "elements", "signals",
                                                  "processes", "workloads", "failures", "problems"};
    return quantities.count(unit) > 0;
}

std::string change(std::optional<double> a, std::optional<double> b) {
    if (!a || !b || *a == 0 || *a == *b) return "";  // equal values: nothing to add
    return fmt::format(" ({:+.1f}%)", (*b - *a) / *a * 100);
}

// The checks that measure the requests' latency, from the same moment as latency_ms.
bool is_latency_check(const std::string& name) { return name == "p99_during_drain"; }

std::string check_change(const CheckDiff& c, bool latency_comparable) {
    if (c.a.status != c.b.status || c.a.unit != c.b.unit || !ratio_means_something(c.b.unit)) return "";
    if (!latency_comparable && is_latency_check(c.name)) return "";
    return change(c.a.value, c.b.value);
}

// What a report's latency_ms.measured_from means, in words; a report without it says nothing.
std::string measured_from_text(const std::string& from) {
    if (from == "send") return "from each request's send (closed loops)";
    if (from == "intended_start") return "from each request's intended start on an open loop's schedule (waits behind slow responses count)";
    if (from == "mixed") return "from the send for closed loops and from the intended start for open loops (the scenario has both)";
    return "from " + from;
}

// Said once, under the latency table: the figures of two bases are shown side by side, without
// a change in percent (`p50 0.069 / 490.734 (+715182.1%)` compared a schedule's waits with a
// service time, and a note under it did not undo the number).
std::string latency_warning(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty() || a == b) return {};
    return fmt::format("latency measured differently: A's {}, B's {}; no change in percent is given for latency (nor p99_during_drain): "
                       "it would not be the service's",
                       measured_from_text(a), measured_from_text(b));
}

std::string ms(std::optional<double> v) { return v ? fmt::format("{:.3f}", *v) : std::string("-"); }

constexpr std::size_t name_width = 30, cell_width = 36;

// One row of the table: cells wrapped in their columns, the mark after the last on the first line.
std::string row(const std::string& name, const std::string& a, const std::string& b, std::string_view mark) {
    return table_row({name, a, b}, {name_width, cell_width, cell_width}, "", "", mark);
}

std::string names_of(const std::vector<const CheckDiff*>& checks) {
    std::string out;
    for (const auto* c : checks) out += (out.empty() ? "" : ", ") + c->name;
    return out;
}

} // namespace

bool RunDiff::verdict_changed() const {
    return std::any_of(checks.begin(), checks.end(), [](const CheckDiff& c) { return c.verdict_changed(); });
}

RunDiff diff_reports(const std::string& a_json, const std::string& a_name, const std::string& b_json, const std::string& b_name) {
    const auto a = the_run(a_json, a_name), b = the_run(b_json, b_name);
    RunDiff diff{title_of(a, a_name), title_of(b, b_name), scenario_warning(a, b), {}, {}, {}, std::nullopt, std::nullopt};
    const CheckSide absent{"-", "", std::nullopt, "", false};
    const auto find = [](const json& run, const std::string& name) -> const json* {
        for (const auto& c : run["checks"]) {
            if (text_of(c, "name") == name) return &c;
        }
        return nullptr;
    };
    for (const auto& c : a["checks"]) {
        const auto name = text_of(c, "name");
        const auto* other = find(b, name);
        diff.checks.push_back(CheckDiff{name, side_of(c), other ? side_of(*other) : absent});
    }
    for (const auto& c : b["checks"]) {
        const auto name = text_of(c, "name");
        if (!find(a, name)) diff.checks.push_back(CheckDiff{name, absent, side_of(c)});
    }
    const auto latency = [](const json& run) { return run.contains("latency_ms") && run["latency_ms"].is_object() ? run["latency_ms"] : json::object(); };
    const auto la = latency(a), lb = latency(b);
    for (const char* p : {"p50", "p90", "p99", "p999", "max"}) diff.latency.push_back(LatencyDiff{p, number_of(la, p), number_of(lb, p)});
    diff.latency_warning = latency_warning(text_of(la, "measured_from"), text_of(lb, "measured_from"));
    diff.a_not_run = not_run_of(a);
    diff.b_not_run = not_run_of(b);
    return diff;
}

RunDiff diff_runs(const fs::path& a, const fs::path& b) {
    const auto a_text = read_report(a);  // A's error first, whatever order arguments are evaluated in
    const auto b_text = read_report(b);
    return diff_reports(a_text, a.string(), b_text, b.string());
}

std::string diff_table(const RunDiff& diff) {
    std::string out = fmt::format("A: {}\nB: {}\n", diff.a_title, diff.b_title);
    if (!diff.scenario_warning.empty()) out += diff.scenario_warning + "\n";
    if (diff.a_not_run) out += not_run_line("A", *diff.a_not_run);
    if (diff.b_not_run) out += not_run_line("B", *diff.b_not_run);
    out += "\n" + row("check", "A", "B", "");
    std::vector<const CheckDiff*> changed, one_run;
    const bool latency_comparable = diff.latency_warning.empty();
    // A check the other run never judged because that run did not run is not "one run only".
    const std::string_view not_run_mark = diff.a_not_run && diff.b_not_run ? "neither ran" : diff.a_not_run ? "A did not run" : "B did not run";
    for (const auto& c : diff.checks) {
        if (c.verdict_changed()) changed.push_back(&c);
        if (c.judged_in_one_run_only() && !diff.either_did_not_run()) one_run.push_back(&c);
        const std::string_view one_run_mark = diff.either_did_not_run() ? not_run_mark : "one run only";
        out += row(c.name, shown(c.a), shown(c.b) + check_change(c, latency_comparable),
                   c.verdict_changed() ? "changed" : c.judged_in_one_run_only() ? one_run_mark : "");
    }
    out += "\n" + row("latency (ok requests, ms)", "A", "B", "");
    for (const auto& l : diff.latency) out += row(l.name, ms(l.a_ms), ms(l.b_ms) + (latency_comparable ? change(l.a_ms, l.b_ms) : ""), "");
    if (!diff.latency_warning.empty()) out += diff.latency_warning + "\n";
    if (diff.either_did_not_run()) return out + not_run_summary(diff);
    out += changed.empty() ? "\nno check changed verdict\n"
                           : fmt::format("\n{} check{} changed verdict (pass <-> fail): {}\n", changed.size(), changed.size() == 1 ? "" : "s", names_of(changed));
    if (!one_run.empty()) {
        out += fmt::format("{} check{} judged in one run only (skipped or absent in the other; not a verdict change): {}\n", one_run.size(),
                           one_run.size() == 1 ? "" : "s", names_of(one_run));
    }
    return out;
}

} // namespace lastcall::reports
