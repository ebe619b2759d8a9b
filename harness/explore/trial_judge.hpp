#pragma once
// One trial as an ordinary run: written as a scenario file, loaded from that file (what `lastcall
// run` would load), run, judged by the ordinary checks. What explore keeps of it is decided by the
// caller (prune() removes the file and the run directory).
#include "checks.hpp"
#include "explore_options.hpp"
#include "scenario.hpp"
#include "target_shapes.hpp"
#include "trial.hpp"

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace lastcall::harness::explore {

struct Judged {
    std::string error;                   // not run: the target never started, or the file did not load
    bool interrupted = false;
    std::vector<CheckResult> failed;     // the checks that failed
    std::filesystem::path file;          // the scenario file that was run
    std::filesystem::path run_dir;
    double seconds = 0;                  // the run's wall time
    bool fails_any(const std::set<std::string>& checks) const;
    std::set<std::string> failed_names() const;
};

class TrialJudge {
public:
    // A trial is written from its shape's text (`shapes` outlives the judge).
    TrialJudge(const ExploreOptions& options, const std::vector<TargetShape>& shapes, const std::atomic<bool>* interrupted);

    // Writes the trial to OUT/<folder>/<name>.yaml, then runs that file.
    Judged judge(const Trial& trial, const std::string& name, const std::string& folder, const std::string& description,
                 const std::vector<std::string>& header);
    // Runs a scenario file as `lastcall run FILE` would (its run directory under OUT/runs; with
    // repeats > 1, as `--repeat`: NAME-r1, NAME-r2 ...).
    Judged run_file(const std::filesystem::path& file, int repeat_index = 0, int repeats = 1);
    static void prune(const Judged& judged, bool keep_file = false);

    std::string write(const Trial& trial, const std::string& name, const std::string& description, const std::vector<std::string>& header) const;

private:
    const ExploreOptions& options_;
    const std::vector<TargetShape>& shapes_;
    RunOptions run_options_;
};

// What makes two failures the same for grouping: the check's name and its message and evidence
// with every number blanked ("dropped: # requests ..., eof_mid_response").
std::string evidence_shape(const CheckResult& check);

} // namespace lastcall::harness::explore
