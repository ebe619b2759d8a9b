// The loop: trials, grouping, shrinking, reproduction. Disk stays bounded: a passing trial's file
// and run directory are removed at once, a shrink candidate's too; what is kept is each failing
// trial, each minimal scenario and one failing run of it.
#include "explore_loop.hpp"

#include "explore_report.hpp"
#include "scenario_loader.hpp"
#include "shrinker.hpp"
#include "trial_generator.hpp"
#include "trial_judge.hpp"
#include "trial_yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>

namespace lastcall::harness::explore {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// SplitMix64: trial n's seed from explore's seed, so every trial's choices are independent.
std::uint64_t trial_seed(std::uint64_t seed, int n) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(n);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::vector<TargetShape> read_shapes(const ExploreOptions& options) {
    load_scenario_file(options.scenario_file, options.variables, ScenarioUse::explore);  // an unreadable file or a directory: its own error
    const auto text = read_text(options.scenario_file);
    return read_target_shapes(text, options.scenario_file.string(), options.variables);
}

// OUT holds what an earlier explore wrote (its explore.json says so): that is replaced. Anything
// else in a non-empty OUT is left alone and refused.
void prepare_out(const fs::path& out) {
    std::error_code ec;
    if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
        if (!fs::exists(out / "explore.json", ec)) {
            throw std::invalid_argument("--out " + out.string() + " is not empty and holds no explore.json: not writing into it");
        }
        for (const char* part : {"trials", "shrink", "findings", "runs", "explore.json"}) fs::remove_all(out / part, ec);
    }
    fs::create_directories(out, ec);
    if (ec) throw std::invalid_argument("--out " + out.string() + ": " + ec.message());
    std::ofstream(out / "explore.json") << "{}\n";  // marks OUT as explore's from the start
}

class Explorer {
public:
    Explorer(const ExploreOptions& options, const std::atomic<bool>* interrupted, const ExploreHooks& hooks)
        : options_(options), interrupted_(interrupted), hooks_(hooks),
          shapes_(read_shapes(options)), judge_(options, shapes_, interrupted) {
        summary_.scenario = options.scenario_file.string();
        summary_.seed = options.seed;
        summary_.budget_s = std::chrono::duration<double>(options.budget).count();
        limits_.earliest = options.bounds.earliest;
        limits_.max_candidates = options.max_shrink_runs;
    }

    ExploreSummary run() {
        prepare_out(options_.out);
        started_ = Clock::now();
        deadline_ = started_ + std::chrono::duration_cast<Clock::duration>(options_.budget);
        for (int n = 1; Clock::now() < deadline_ && !stopped(); ++n) {
            if (!one_trial(n)) break;
        }
        summary_.elapsed_s = elapsed();
        std::error_code ec;
        fs::remove(options_.out / "shrink", ec);  // only when empty: every candidate was pruned
        return std::move(summary_);
    }

private:
    bool stopped() {
        if (interrupted_ && *interrupted_) summary_.interrupted = true;
        return summary_.interrupted;
    }
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }
    void say(const std::string& line) const {
        if (hooks_.line) hooks_.line(line);
    }
    std::vector<std::string> header(const std::string& what, const fs::path& file) const {
        return {fmt::format("{} by lastcall explore from {} (explore seed {})", what, options_.scenario_file.string(), options_.seed),
                fmt::format("run it: lastcall run {} (with explore's --server and --var, if any)", file.string())};
    }

    // False: stop exploring (interrupted, or the target never starts).
    bool one_trial(int n) {
        // The shapes in turn: k trials have tried each of k shapes once, whatever the seed.
        const auto shape = static_cast<std::size_t>(n - 1) % shapes_.size();
        const auto trial = generate_trial(shapes_, shape, options_.bounds, trial_seed(options_.seed, n));
        const auto name = trial_name(scenario_name(), fmt::format("t{}", n));
        auto judged = judge_.judge(trial, name, "trials", fmt::format("explore trial {}: {}", n, describe(trial)), header(fmt::format("Trial {}", n), options_.out / "trials" / (name + ".yaml")));
        if (judged.interrupted || stopped()) {
            summary_.interrupted = true;
            TrialJudge::prune(judged);
            return false;
        }
        ++summary_.trials;
        if (!judged.error.empty()) {
            ++summary_.errors;
            if (summary_.error_messages.size() < 5) summary_.error_messages.push_back(fmt::format("trial {}: {}", n, judged.error));
            say(fmt::format("trial {}: not run: {}", n, judged.error));
            TrialJudge::prune(judged);
            // A target that never starts would make every trial an error: stop after three in a row.
            return !(summary_.errors >= 3 && summary_.errors == summary_.trials);
        }
        if (judged.failed.empty()) {
            say(fmt::format("trial {} ({:.1f}s): pass  {}", n, judged.seconds, describe(trial)));
            TrialJudge::prune(judged);
            return true;
        }
        ++summary_.failures;
        if (!summary_.first_failure_s) summary_.first_failure_s = elapsed();
        say(fmt::format("trial {} ({:.1f}s): FAIL {}  {}", n, judged.seconds, join(judged.failed_names()), describe(trial)));
        auto& group = summary_.groups[add_to_group(summary_.groups, judged.failed, n, judged.run_dir)];
        if (group.finding < 0 && group.trials.size() == 1) {
            auto finding = shrink_and_measure(n, trial, judged);
            // Two kinds whose trials shrink to the same minimal scenario are one finding.
            const auto same = std::find_if(summary_.findings.begin(), summary_.findings.end(),
                                           [&](const Finding& f) { return same_scenario(f.minimal, finding.minimal); });
            group.finding = static_cast<int>(same - summary_.findings.begin());
            if (same == summary_.findings.end()) summary_.findings.push_back(std::move(finding));
            else ++same->seen;
        } else if (group.finding >= 0) {
            ++summary_.findings[static_cast<std::size_t>(group.finding)].seen;
        }
        return !stopped();
    }

    Finding shrink_and_measure(int n, const Trial& trial, const Judged& judged) {
        Finding f;
        f.trial_number = n;
        f.original = trial;
        f.checks = judged.failed_names();
        f.name = trial_name(scenario_name(), fmt::format("f{}", summary_.findings.size() + 1));
        // Shrinking ends with the budget; the re-runs of what it reached come after it, so a slow
        // failure (a target that ignores its signal runs until max_duration) is still shrunk.
        const auto shrink_deadline = deadline_;
        int candidate = 0;
        const auto fails = [&](const Trial& c) {
            const auto name = trial_name(scenario_name(), fmt::format("t{}-s{}", n, ++candidate));
            auto r = judge_.judge(c, name, "shrink", describe(c), header("Shrink candidate", options_.out / "shrink" / (name + ".yaml")));
            ++summary_.shrink_runs;
            // Still failing the way the trial did: one of its failing checks, and no other (a
            // candidate that fails a check the trial passed shows another failure, often one the
            // smaller load cannot give evidence for: zero_downtime with no request after a reload).
            const auto failed = r.failed_names();
            const bool same_way = std::all_of(failed.begin(), failed.end(), [&](const std::string& check) { return f.checks.count(check) != 0; });
            const bool still = !r.interrupted && r.error.empty() && r.fails_any(f.checks) && same_way;
            say(fmt::format("  shrink {} ({:.1f}s): {}  {}", candidate, r.seconds, still ? "still fails" : "passes", describe(c)));
            TrialJudge::prune(r);
            return still;
        };
        const auto stop = [&] { return stopped() || Clock::now() >= shrink_deadline; };
        const auto shrunk = shrink(trial, shapes_, limits_, fails, stop);
        f.minimal = shrunk.trial;
        f.shrink_runs = shrunk.candidates;
        f.shrink_stopped = shrunk.stopped;
        for (const auto& earlier : summary_.findings) {
            if (same_scenario(earlier.minimal, f.minimal)) {
                say(fmt::format("  shrunk to finding {}'s minimal scenario: counted there", earlier.name));
                return f;  // not written, not re-run: the caller counts it in the earlier finding
            }
        }

        f.file = options_.out / "findings" / (f.name + ".yaml");
        std::error_code ec;
        fs::create_directories(f.file.parent_path(), ec);
        const auto description = fmt::format("Found by lastcall explore (trial {}, fails {}): {}", n, join(f.checks), describe(f.minimal));
        std::ofstream(f.file) << judge_.write(f.minimal, f.name, description, header("Minimal scenario", f.file));
        for (int r = 0; r < options_.reruns && !stopped(); ++r) {
            auto rerun = judge_.run_file(f.file, r, options_.reruns);
            if (rerun.interrupted) {
                TrialJudge::prune(rerun, true);
                break;
            }
            ++f.reruns;
            const bool failed = rerun.error.empty() && rerun.fails_any(f.checks);
            f.reproduced += failed;
            for (const auto& check : f.checks) f.reproduced_by_check[check] += rerun.error.empty() && rerun.fails_any({check}) ? 1 : 0;
            if (failed && f.run_dir.empty()) {
                f.run_dir = rerun.run_dir;
                f.failed = rerun.failed;
            } else {
                TrialJudge::prune(rerun, true);
            }
        }
        say(fmt::format("  finding {}: {} (size {} from {}, {} shrink runs), reproduces {}/{}{}", f.name, describe(f.minimal), trial_size(f.minimal),
                        trial_size(f.original), f.shrink_runs, f.reproduced, f.reruns, f.flaky() ? " (flaky)" : ""));
        return f;
    }

    const ExploreOptions& options_;
    const std::atomic<bool>* interrupted_;
    const ExploreHooks& hooks_;
    const std::string& scenario_name() const { return shapes_.front().scenario.name; }

    std::vector<TargetShape> shapes_;
    TrialJudge judge_;
    ShrinkLimits limits_;
    ExploreSummary summary_;
    Clock::time_point started_, deadline_;
};

} // namespace

bool same_scenario(const Trial& a, Trial b) {
    b.seed = a.seed;
    return a == b;
}

std::size_t add_to_group(std::vector<FailureGroup>& groups, const std::vector<CheckResult>& failed, int trial, const fs::path& run_dir) {
    std::string shape;
    std::set<std::string> checks;
    for (const auto& c : failed) {
        shape += (shape.empty() ? "" : "\n") + evidence_shape(c);
        checks.insert(c.name);
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const FailureGroup& g) { return g.checks == checks && g.shape == shape; });
    if (it == groups.end()) it = groups.insert(groups.end(), FailureGroup{checks, shape, {}, {}, -1});
    it->trials.push_back(trial);
    it->run_dirs.push_back(run_dir);
    return static_cast<std::size_t>(it - groups.begin());
}

std::set<std::string> Finding::minimal_checks() const {
    if (failed.empty()) return checks;
    std::set<std::string> out;
    for (const auto& c : failed) out.insert(c.name);
    return out;
}

ExploreSummary explore(const ExploreOptions& options, const std::atomic<bool>* interrupted, const ExploreHooks& hooks) {
    return Explorer(options, interrupted, hooks).run();
}

int run_explore(const ExploreOptions& options, const std::atomic<bool>* interrupted) {
    ExploreHooks hooks;
    hooks.line = [](const std::string& line) {
        fmt::print("{}\n", line);
        std::fflush(stdout);
    };
    const auto summary = explore(options, interrupted, hooks);
    fmt::print("{}", text_report(summary));
    std::ofstream(options.out / "explore.json") << json_report(summary) << '\n';
    if (summary.interrupted) return 130;
    if (summary.failures > 0) return 1;
    if (summary.errors > 0 && summary.errors == summary.trials) return 3;
    return 0;
}

} // namespace lastcall::harness::explore
