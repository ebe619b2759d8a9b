// The shrinker's passes. Each candidate is checked for consistency (it must still load as a
// scenario) before the judge sees it, so no judge call is spent on a file that cannot run.
#include "shrinker.hpp"

#include <algorithm>
#include <cmath>

namespace lastcall::harness::explore {

namespace {

using std::chrono::milliseconds;

class Shrinking {
public:
    Shrinking(const Trial& trial, const std::vector<TargetShape>& shapes, const ShrinkLimits& limits, const std::function<bool(const Trial&)>& fails,
              const std::function<bool()>& stop)
        : shapes_(shapes), limits_(limits), fails_(fails), stop_(stop) {
        result_.trial = trial;
    }

    ShrinkResult run() {
        bool changed = true;
        while (changed && !stopped()) {
            changed = false;
            changed |= simpler_shape();
            changed |= drop_workloads();
            changed |= drop_entries();
            changed |= drop_reloads();
            changed |= simplify_sequence();
            changed |= fewer_connections();
            changed |= lower_rates();
            changed |= earlier_moments();
        }
        return result_;
    }

private:
    bool stopped() {
        if (!result_.stopped && (result_.candidates >= limits_.max_candidates || stop_())) result_.stopped = true;
        return result_.stopped;
    }

    // Judges `candidate`; keeps it when it fails.
    bool try_candidate(const Trial& candidate) {
        if (candidate == result_.trial || candidate.shape >= shapes_.size() || !consistent(candidate, shapes_[candidate.shape].scenario) || stopped()) {
            return false;
        }
        ++result_.candidates;
        if (!fails_(candidate)) return false;
        ++result_.accepted;
        result_.trial = candidate;
        return true;
    }

    const Scenario& current_scenario() const { return shapes_[result_.trial.shape].scenario; }

    // The simplest shape first: the failure may need none of what the trial's shape adds.
    bool simpler_shape() {
        for (std::size_t shape = 0; shape < result_.trial.shape; ++shape) {
            if (try_candidate(reshaped(result_.trial, shapes_, shape))) return true;
        }
        return false;
    }

    bool drop_workloads() {
        const auto pinned = pinned_workloads(current_scenario());
        bool changed = false;
        for (std::size_t i = 0; i < result_.trial.workloads.size();) {
            const auto& name = result_.trial.workloads[i].name;
            if (std::find(pinned.begin(), pinned.end(), name) != pinned.end() || result_.trial.workloads.size() == 1) {
                ++i;
                continue;
            }
            auto candidate = result_.trial;
            candidate.workloads.erase(candidate.workloads.begin() + static_cast<std::ptrdiff_t>(i));
            if (try_candidate(candidate)) changed = true;
            else ++i;
        }
        return changed;
    }

    // When the expectations read back after a restart (acked writes, jobs, resumed streams), the
    // scenario's own entries are how the read-back happens (the restart, the stop_load before it):
    // without one those checks fail for want of a read-back, which is not the failure being shrunk.
    bool needed(std::size_t) const {
        const auto& e = current_scenario().expect;
        return e.acked_writes || e.jobs_accounted || e.streams_resumed;
    }

    bool drop_entries() {
        bool changed = false;
        for (std::size_t i = 0; i < result_.trial.kept_entries.size();) {
            if (needed(result_.trial.kept_entries[i])) {
                ++i;
                continue;
            }
            auto candidate = result_.trial;
            candidate.kept_entries.erase(candidate.kept_entries.begin() + static_cast<std::ptrdiff_t>(i));
            if (try_candidate(candidate)) changed = true;
            else ++i;
        }
        return changed;
    }

    // The last reload first: a second reload is the likelier one to be unneeded.
    bool drop_reloads() {
        bool changed = false;
        for (std::size_t i = result_.trial.reloads.size(); i-- > 0;) {
            auto candidate = result_.trial;
            candidate.reloads.erase(candidate.reloads.begin() + static_cast<std::ptrdiff_t>(i));
            if (try_candidate(candidate)) changed = true;
        }
        return changed;
    }

    bool simplify_sequence() {
        // For a reload's failure the simplest trial has no shutdown at all.
        if (result_.trial.sequence == SignalSequence::reload_only) return false;
        if (!result_.trial.reloads.empty()) {
            auto candidate = result_.trial;
            candidate.sequence = SignalSequence::reload_only;
            candidate.fast_signal = 0;
            candidate.follow_up = candidate.pause = Duration::zero();
            std::erase_if(candidate.kept_entries, [&](std::size_t index) {
                const auto& e = current_scenario().timeline[index];
                return e.when && (e.when->kind == Condition::Kind::after_signal || e.when->kind == Condition::Kind::exited);
            });
            if (try_candidate(candidate)) return true;
        }
        if (result_.trial.sequence == SignalSequence::graceful) return false;
        auto candidate = result_.trial;
        candidate.sequence = SignalSequence::graceful;
        candidate.fast_signal = 0;
        candidate.follow_up = Duration::zero();
        candidate.pause = Duration::zero();
        if (try_candidate(candidate)) return true;
        // Keep the sequence; shorten its steps instead.
        bool changed = false;
        if (result_.trial.pause > Duration::zero()) {
            changed |= bisect([](Trial& t) -> Duration& { return t.pause; }, Duration(milliseconds(1)), limits_.resolution);
        }
        if (result_.trial.follow_up > Duration::zero()) {
            changed |= bisect([](Trial& t) -> Duration& { return t.follow_up; }, Duration(milliseconds(1)), limits_.resolution);
        }
        return changed;
    }

    bool fewer_connections() {
        bool changed = false;
        for (std::size_t i = 0; i < result_.trial.workloads.size(); ++i) {
            if (result_.trial.workloads[i].rate > 0) continue;
            changed |= bisect([i](Trial& t) -> int& { return t.workloads[i].connections; }, 1, 1);
        }
        if (result_.trial.moment.in_flight_at_least) {
            changed |= bisect([](Trial& t) -> std::int64_t& { return *t.moment.in_flight_at_least; }, std::int64_t{1}, std::int64_t{1});
        }
        return changed;
    }

    bool lower_rates() {
        bool changed = false;
        for (std::size_t i = 0; i < result_.trial.workloads.size(); ++i) {
            if (result_.trial.workloads[i].rate <= 1) continue;
            const double resolution = std::max(1.0, result_.trial.workloads[i].rate * limits_.rate_resolution);
            changed |= bisect([i](Trial& t) -> double& { return t.workloads[i].rate; }, 1.0, resolution);
        }
        return changed;
    }

    bool earlier_moments() {
        bool changed = false;
        // Each reload earlier (from the first: the next one's floor is it), then the signal.
        for (std::size_t i = 0; i < result_.trial.reloads.size(); ++i) {
            const Duration floor = i == 0 ? limits_.earliest : result_.trial.reloads[i - 1];
            changed |= bisect([i](Trial& t) -> Duration& { return t.reloads[i]; }, floor, limits_.resolution);
        }
        if (result_.trial.moment.in_flight_at_least) {
            return bisect([](Trial& t) -> Duration& { return t.moment.delay; }, Duration::zero(), limits_.resolution) || changed;
        }
        const Duration floor = result_.trial.reloads.empty() ? limits_.earliest : result_.trial.reloads.back() + reload_settle;
        return bisect([](Trial& t) -> Duration& { return t.moment.at; }, floor, limits_.resolution) || changed;
    }

    // Between two values, on the grid the YAML writes exactly: whole milliseconds, whole
    // connections, whole requests per second.
    static Duration middle(Duration low, Duration high) { return std::chrono::duration_cast<milliseconds>(low + (high - low) / 2); }
    static int middle(int low, int high) { return low + (high - low) / 2; }
    static std::int64_t middle(std::int64_t low, std::int64_t high) { return low + (high - low) / 2; }
    static double middle(double low, double high) { return std::floor((low + high) / 2); }

    // The smallest value in [floor, current] that still fails, by bisection: the floor itself is
    // tried first, then the middle of what is left until it is `resolution` narrow. The failing
    // region need not be an interval; this finds one edge of it, which is what a person would.
    template <typename T, typename Field>
    bool bisect(Field field, T floor, T resolution) {
        auto probe = result_.trial;
        T low = floor, high = field(probe);
        if (!(low < high)) return false;
        auto candidate = result_.trial;
        field(candidate) = low;
        if (try_candidate(candidate)) return true;
        bool changed = false;
        while (high - low > resolution && !stopped()) {
            const T mid = middle(low, high);
            if (!(low < mid && mid < high)) break;
            candidate = result_.trial;
            field(candidate) = mid;
            if (try_candidate(candidate)) {
                high = mid;
                changed = true;
            } else {
                low = mid;
            }
        }
        return changed;
    }

    const std::vector<TargetShape>& shapes_;
    const ShrinkLimits& limits_;
    const std::function<bool(const Trial&)>& fails_;
    const std::function<bool()>& stop_;
    ShrinkResult result_;
};

} // namespace

ShrinkResult shrink(const Trial& trial, const Scenario& scenario, const ShrinkLimits& limits, const std::function<bool(const Trial&)>& fails,
                    const std::function<bool()>& stop) {
    return shrink(trial, plain_shape(scenario), limits, fails, stop);
}

ShrinkResult shrink(const Trial& trial, const std::vector<TargetShape>& shapes, const ShrinkLimits& limits,
                    const std::function<bool(const Trial&)>& fails, const std::function<bool()>& stop) {
    return Shrinking(trial, shapes, limits, fails, stop).run();
}

Trial reshaped(const Trial& trial, const std::vector<TargetShape>& shapes, std::size_t shape) {
    const auto& to = shapes.at(shape);
    const auto& s = to.scenario;
    Trial out = trial;
    out.shape = shape;
    out.shape_name = to.name;
    out.workloads.clear();
    const auto defined = [&](const std::string& name) {
        return std::find_if(s.workloads.begin(), s.workloads.end(), [&](const Workload& w) { return w.name == name; });
    };
    const auto add = [&](const std::string& name) {
        const auto kept = [&](const TrialWorkload& w) { return w.name == name; };
        const auto it = defined(name);
        if (it == s.workloads.end() || std::any_of(out.workloads.begin(), out.workloads.end(), kept)) return;
        out.workloads.push_back(TrialWorkload{name, 1, it->mode == LoadMode::open ? 1.0 : 0.0});
    };
    for (const auto& w : trial.workloads) {
        if (defined(w.name) != s.workloads.end()) out.workloads.push_back(w);
    }
    for (const auto& name : pinned_workloads(s)) add(name);
    for (const auto& name : to.own_workloads) add(name);
    if (out.workloads.empty() && !s.workloads.empty()) add(s.workloads.front().name);
    out.kept_entries = own_entries(s);
    if (!reloads_target(s)) out.reloads.clear();
    return out;
}

int trial_size(const Trial& trial) {
    int size = static_cast<int>(trial.workloads.size() + trial.kept_entries.size() + trial.reloads.size()) + 1 + (trial.shape > 0 ? 1 : 0);
    for (const auto& w : trial.workloads) size += w.rate > 0 ? 1 : w.connections;
    const auto plain = {SignalSequence::graceful, SignalSequence::fast, SignalSequence::reload_only};
    if (std::find(plain.begin(), plain.end(), trial.sequence) == plain.end()) ++size;
    return size;
}

} // namespace lastcall::harness::explore
