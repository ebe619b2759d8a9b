// Trials as runs: scenario file in, failed checks out; reports written for the runs that failed.
#include "trial_judge.hpp"

#include "reports.hpp"
#include "run_record.hpp"
#include "scenario_loader.hpp"
#include "trial_yaml.hpp"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <fstream>

namespace lastcall::harness::explore {

namespace fs = std::filesystem;

bool Judged::fails_any(const std::set<std::string>& checks) const {
    for (const auto& c : failed) {
        if (checks.count(c.name) != 0) return true;
    }
    return false;
}

std::set<std::string> Judged::failed_names() const {
    std::set<std::string> out;
    for (const auto& c : failed) out.insert(c.name);
    return out;
}

TrialJudge::TrialJudge(const ExploreOptions& options, const std::vector<TargetShape>& shapes, const std::atomic<bool>* interrupted)
    : options_(options), shapes_(shapes), run_options_(options.run) {
    run_options_.run_dir = options.out / "runs";
    run_options_.interrupted = interrupted;
    run_options_.adopt_orphans = true;  // as `lastcall run`: lastcall is the child subreaper
    run_options_.extra_target_args.clear();  // written into every trial file instead, so the file stands alone
    run_options_.seed.reset();
}

std::string TrialJudge::write(const Trial& trial, const std::string& name, const std::string& description,
                              const std::vector<std::string>& header) const {
    const auto& shape = shapes_.at(trial.shape);
    return trial_scenario_yaml(shape.text, shape.scenario, trial, TrialFile{name, description, header, options_.run.extra_target_args});
}

Judged TrialJudge::judge(const Trial& trial, const std::string& name, const std::string& folder, const std::string& description,
                         const std::vector<std::string>& header) {
    const auto file = options_.out / folder / (name + ".yaml");
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream(file) << write(trial, name, description, header);
    return run_file(file);
}

Judged TrialJudge::run_file(const fs::path& file, int repeat_index, int repeats) {
    Judged judged;
    judged.file = file;
    Scenario scenario;
    try {
        scenario = load_scenario_file(file, options_.variables);
    } catch (const ScenarioError& e) {
        judged.error = e.what();  // a trial that does not load is explore's own bug: said, never hidden
        return judged;
    }
    const auto started = std::chrono::steady_clock::now();
    auto options = run_options_;
    options.repeat_index = repeat_index;
    options.repeats = repeats;
    auto result = run_scenario(scenario, options);
    judged.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    judged.run_dir = result.run_dir;
    judged.interrupted = result.interrupted;
    if (result.interrupted) return judged;
    if (!result.start_error.empty()) {
        judged.error = result.start_error;
        return judged;
    }
    if (!result.skipped.empty()) {
        judged.error = "skipped: " + result.skipped;
        return judged;
    }
    RunVerdict verdict{&scenario, 0, std::move(result), {}};
    verdict.checks = evaluate_checks(scenario, verdict.run);
    for (const auto& c : verdict.checks) {
        if (c.status == CheckStatus::fail) judged.failed.push_back(c);
    }
    if (!judged.failed.empty()) {
        lastcall::reports::write_run_reports(verdict);
        lastcall::reports::keep_verdict(verdict);  // for `lastcall report RUN_DIR`
    }
    return judged;
}

void TrialJudge::prune(const Judged& judged, bool keep_file) {
    std::error_code ec;
    if (!judged.run_dir.empty()) fs::remove_all(judged.run_dir, ec);
    if (!keep_file && !judged.file.empty()) fs::remove(judged.file, ec);
}

namespace {

std::string blank_numbers(const std::string& text) {
    std::string out;
    bool in_number = false;
    for (const char c : text) {
        const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0 || (in_number && c == '.');
        if (digit && !in_number) out += '#';
        else if (!digit) out += c;
        in_number = digit;
    }
    return out;
}

} // namespace

// A request's evidence line ends in its outcome ("-> dropped (reset)"): that is its shape; which
// workload, connection or moment it was is not. Other evidence counts as written, numbers blanked.
std::string evidence_shape(const CheckResult& check) {
    std::set<std::string> kinds;
    for (const auto& line : check.evidence) {
        if (line.find("... and ") != std::string::npos) continue;  // how many more: a count, not a kind
        const auto arrow = line.find("-> ");
        kinds.insert(blank_numbers(arrow == std::string::npos ? line : line.substr(arrow + 3)));
    }
    std::string out = check.name + ": " + blank_numbers(check.message);
    for (const auto& k : kinds) out += " | " + k;
    return out;
}

} // namespace lastcall::harness::explore
