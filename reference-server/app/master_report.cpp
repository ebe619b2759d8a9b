#include "master_report.hpp"

#include "lastcall/coordinator/phase.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>

namespace lastcall::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Which of two outcomes of the same phase speaks for both: the one that says more went wrong. A phase
// one worker skipped and another completed reads "completed".
int badness(const std::string& outcome) {
    static const std::map<std::string, int> order{{"skipped", 0}, {"completed", 1}, {"cancelled", 2},
                                                  {"timed_out", 3}, {"escalated", 4}, {"failed", 5}};
    const auto found = order.find(outcome);
    return found == order.end() ? 6 : found->second;
}

double number_or(const json& object, const char* key, double fallback) {
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

// The sums of every numeric field of `key` over the reports.
json sum_fields(const std::vector<const json*>& reports, const char* key) {
    json sums = json::object();
    for (const auto* report : reports) {
        const auto section = report->find(key);
        if (section == report->end() || !section->is_object()) continue;
        for (const auto& [name, value] : section->items()) {
            if (!value.is_number()) continue;
            if (value.is_number_integer()) sums[name] = sums.value(name, std::int64_t{0}) + value.get<std::int64_t>();
            else sums[name] = sums.value(name, 0.0) + value.get<double>();
        }
    }
    return sums;
}

json read_report(const fs::path& path, std::string& error) {
    std::ifstream in(path);
    if (!in) return nullptr;  // the worker wrote none: it died first, or was never told to stop
    auto report = json::parse(in, nullptr, false);
    if (report.is_discarded() || !report.is_object()) {
        error = fmt::format("{} is not a JSON object", path.string());
        return nullptr;
    }
    return report;
}

double ms_since(coordinator::TimePoint start, coordinator::TimePoint t) {
    return std::chrono::duration<double, std::milli>(t - start).count();
}

} // namespace

json fold_worker_reports(const std::vector<const json*>& stopped, std::int64_t signal_at_unix_us) {
    struct Span {
        double start = 0;
        double end = 0;
        std::string outcome;
        std::string detail;
    };
    // Each phase from the moment every worker had entered it to the moment the last one left it:
    // "draining had certainly begun" holds for the whole service from that start, and the phases
    // stay in order (a worker enters a phase only after it left the one before).
    std::vector<std::pair<std::string, Span>> spans;  // in the order the workers' phases run
    json abandoned = json::array();
    std::string durability_error;
    bool escalated = false;
    for (const auto* report : stopped) {
        const double offset_ms = (number_or(*report, "signal_at_unix_us", 0) - static_cast<double>(signal_at_unix_us)) / 1000.0;
        for (const auto& phase : report->value("phases", json::array())) {
            if (!phase.is_object() || !phase.contains("phase") || !phase["phase"].is_string()) continue;
            const auto name = phase["phase"].get<std::string>();
            const Span span{number_or(phase, "start_ms", 0) + offset_ms, number_or(phase, "end_ms", 0) + offset_ms,
                            phase.value("outcome", std::string()), phase.value("detail", std::string())};
            const auto found = std::find_if(spans.begin(), spans.end(), [&](const auto& s) { return s.first == name; });
            if (found == spans.end()) {
                spans.emplace_back(name, span);
                continue;
            }
            auto& merged = found->second;
            merged.start = std::max(merged.start, span.start);
            merged.end = std::max(merged.end, span.end);
            if (badness(span.outcome) > badness(merged.outcome)) {
                merged.outcome = span.outcome;
                merged.detail = span.detail;
            }
        }
        for (const auto& task : report->value("abandoned_tasks", json::array())) abandoned.push_back(task);
        if (durability_error.empty()) durability_error = report->value("durability_error", std::string());
        escalated = escalated || report->value("escalated", false);
    }
    json phases = json::array();
    for (const auto& [name, span] : spans) {
        phases.push_back({{"phase", name}, {"start_ms", span.start}, {"end_ms", span.end}, {"outcome", span.outcome}, {"detail", span.detail}});
    }
    return {{"phases", phases},
            {"counts", sum_fields(stopped, "counts")},
            {"connections", sum_fields(stopped, "connections")},
            {"abandoned_tasks", abandoned},
            {"durability_error", durability_error},
            {"escalated", escalated}};
}

fs::path worker_state_dir(const fs::path& workers_dir, const WorkerId& id) {
    return workers_dir / fmt::format("{}.{}", id.generation, id.slot);
}

fs::path worker_report_path(const fs::path& workers_dir, const WorkerId& id) {
    return worker_state_dir(workers_dir, id) / "shutdown-report.json";
}

std::string master_report_json(const MasterState& state, const MasterReportContext& context) {
    json workers = json::array();
    std::vector<json> reports;  // kept apart so the fold can point into them
    reports.reserve(state.workers().size());
    std::vector<const json*> stopped;
    for (const auto& w : state.workers()) {
        const auto at = [&](const std::optional<coordinator::TimePoint>& t) { return t ? json(ms_since(context.started, *t)) : json(nullptr); };
        std::string report_error;
        // A replaced worker shares its slot's directory: only the last incarnation's report is there.
        const bool last_in_slot = !w.replaced_by;
        reports.push_back(w.ended && last_in_slot ? read_report(worker_report_path(context.workers_dir, w.id), report_error) : json(nullptr));
        if (w.ended_while == EndedWhile::stopping && reports.back().is_object()) stopped.push_back(&reports.back());
        workers.push_back({{"id", w.id.text()},
                           {"generation", w.id.generation},
                           {"slot", w.id.slot},
                           {"incarnation", w.id.incarnation},
                           {"pid", w.pid},
                           {"spawned_ms", ms_since(context.started, w.spawned)},
                           {"ready_ms", at(w.ready)},
                           {"ended_ms", at(w.ended)},
                           {"ended_while", to_string(w.ended_while)},
                           {"fate", to_string(w.fate)},
                           {"exit", w.ended ? w.exit.text() : ""},
                           {"exit_code", w.ended && w.exit.exited ? json(w.exit.code) : json(nullptr)},
                           {"signal", w.ended && !w.exit.exited ? w.exit.signal : 0},
                           {"replaced_by", w.replaced_by ? json(w.replaced_by->text()) : json(nullptr)},
                           {"report", reports.back()},
                           {"report_error", report_error}});
    }
    json reloads = json::array();
    for (const auto& r : state.reloads()) {
        reloads.push_back({{"generation", r.generation},
                           {"started_ms", ms_since(context.started, r.started)},
                           {"new_ready_ms", r.new_ready ? json(ms_since(context.started, *r.new_ready)) : json(nullptr)},
                           {"outcome", !r.outcome ? "running" : *r.outcome == ReloadOutcome::completed ? "completed" : "aborted"}});
    }
    const auto signal = state.shutdown_signal().value_or(0);
    const char* name = signal ? sigabbrev_np(signal) : nullptr;
    json out = fold_worker_reports(stopped, context.signal_at_unix_us);
    out.update({{"version", 1},
                {"role", "master"},
                {"mode", state.fast() ? "fast" : "graceful"},
                {"signal", signal},
                {"signal_name", name ? fmt::format("SIG{}", name) : ""},
                {"signal_at_unix_us", context.signal_at_unix_us},
                {"workers", workers},
                {"stragglers", state.stragglers()},
                {"reloads", reloads},
                {"total_ms", context.total_ms},
                {"exit_code", context.exit_code}});
    return out.dump(2) + "\n";
}

} // namespace lastcall::server
