#include "run_diff.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
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

CheckSide side_of(const json& check) {
    CheckSide side{text_of(check, "status"), text_of(check, "measured"), number_of(check, "value")};
    if (side.value) side.measured = fmt::format("{:g} {}", *side.value, text_of(check, "unit"));
    return side;
}

std::string title_of(const json& run) { return fmt::format("{} ({})", text_of(run, "scenario"), text_of(run, "run_dir")); }

std::string shown(const CheckSide& s) {
    auto measured = s.measured.size() > 28 ? s.measured.substr(0, 27) + "~" : s.measured;
    return s.status == "-" ? "-" : fmt::format("{} {}", s.status == "fail" ? "FAIL" : s.status, measured);
}

std::string change(std::optional<double> a, std::optional<double> b) {
    if (!a || !b || *a == 0) return "";
    return fmt::format(" ({:+.1f}%)", (*b - *a) / *a * 100);
}

std::string ms(std::optional<double> v) { return v ? fmt::format("{:.3f}", *v) : std::string("-"); }

} // namespace

bool RunDiff::verdict_changed() const {
    return std::any_of(checks.begin(), checks.end(), [](const CheckDiff& c) { return c.verdict_changed(); });
}

RunDiff diff_reports(const std::string& a_json, const std::string& a_name, const std::string& b_json, const std::string& b_name) {
    const auto a = the_run(a_json, a_name), b = the_run(b_json, b_name);
    RunDiff diff{title_of(a), title_of(b), {}, {}};
    const CheckSide absent{"-", "", std::nullopt};
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
    return diff;
}

RunDiff diff_runs(const fs::path& a, const fs::path& b) {
    const auto a_text = read_report(a);  // A's error first, whatever order arguments are evaluated in
    const auto b_text = read_report(b);
    return diff_reports(a_text, a.string(), b_text, b.string());
}

std::string diff_table(const RunDiff& diff) {
    std::string out = fmt::format("A: {}\nB: {}\n\n{:<30} {:<36} {:<36}\n", diff.a_title, diff.b_title, "check", "A", "B");
    for (const auto& c : diff.checks) {
        const auto b = shown(c.b) + (c.a.status == c.b.status ? change(c.a.value, c.b.value) : "");
        out += fmt::format("{:<30} {:<36} {:<36}{}\n", c.name, shown(c.a), b, c.verdict_changed() ? " changed" : "");
    }
    out += fmt::format("\n{:<30} {:<36} {:<36}\n", "latency (ok requests, ms)", "A", "B");
    for (const auto& l : diff.latency) out += fmt::format("{:<30} {:<36} {:<36}\n", l.name, ms(l.a_ms), ms(l.b_ms) + change(l.a_ms, l.b_ms));
    const auto changed = std::count_if(diff.checks.begin(), diff.checks.end(), [](const CheckDiff& c) { return c.verdict_changed(); });
    out += changed ? fmt::format("\n{} check{} changed verdict\n", changed, changed == 1 ? "" : "s") : "\nno check changed verdict\n";
    return out;
}

} // namespace lastcall::reports
