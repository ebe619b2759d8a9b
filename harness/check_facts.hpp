#pragma once
// What the checks share (internal to checks*.cpp): the facts of a run computed once, and the
// helpers that build a CheckResult.
#include "checks.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lastcall::harness::checks {

inline constexpr std::size_t evidence_limit = 3;

inline std::string seconds(std::int64_t us) { return us < 0 ? "-" : fmt::format("{:.3f}s", static_cast<double>(us) / 1e6); }
inline std::string millis(std::int64_t us) { return fmt::format("{:.1f}ms", static_cast<double>(us) / 1e3); }
inline double as_ms(std::int64_t us) { return static_cast<double>(us) / 1e3; }  // a number for CheckNumbers
inline std::int64_t micros(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

// Requests that matched, in the history's order: how many, the first `keep` of them (copies: the
// history is streamed, so what a check holds stays bounded however many matched), and the
// earliest moment among all of them (the check's moment on the timeline).
class Matches {
public:
    explicit Matches(std::size_t keep = evidence_limit) : keep_(keep) {}
    void add(const RequestRecord& r);
    void append(const Matches& later);  // `later`'s after these, as if added after them
    std::uint64_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    const std::vector<RequestRecord>& first() const { return first_; }
    std::int64_t earliest_us() const { return earliest_us_; }

private:
    std::size_t keep_;
    std::uint64_t count_ = 0;
    std::vector<RequestRecord> first_;
    std::int64_t earliest_us_ = -1;
};

struct Facts {
    const Scenario& scenario;
    const RunResult& run;
    std::int64_t signal_us = -1;  // the first delivered shutdown signal (not STOP/CONT)
    std::int64_t exit_us = -1;    // the judged generation's exit
    const TargetReport* report = nullptr;  // the judged generation's, when it wrote a valid one
    std::int64_t delivered_us = -1;  // when kill() for signal_us returned
    // When the target itself handled the signal: its own report says so; else the delivery. A
    // process starved of CPU can only act on a signal once it runs again.
    std::int64_t noticed_us = -1;
    bool noticed_from_report = false;

    Facts(const Scenario& s, const RunResult& r);
    // Every request of the run, in the history's order (intended start), streamed: a record lives
    // only for the call, so a check copies what it keeps. A pass of its own: only for the joins
    // between requests the one pass of evaluate_checks cannot make (CheckPass).
    void for_each(const RecordVisitor& visit) const { for_each_request(run, visit); }
    std::uint64_t outcome(Outcome o) const { return run.outcomes[static_cast<std::size_t>(o)]; }
    bool is_stream(const RequestRecord& r) const;
    // Why a check that found no record to judge is skipped: `none_found` ("no request completed
    // while draining") when the history is whole; past limits.history_bytes the records it needed
    // may be among those not kept, so it says that instead of claiming there were none.
    std::string nothing_recorded(std::string_view none_found) const;
};

// A check as evaluate_checks runs it: `visit` sees every request once, in the history's order, in
// the one pass made for all the checks (empty: the check reads no request); `judge` then gives
// its verdict. A join between requests that one pass cannot make (an idle-close race and its
// retry, close_announced without the target's report) makes its own passes in `judge`, said there.
struct CheckPass {
    RecordVisitor visit;
    std::function<CheckResult()> judge;
};

// A check that reads no request: its verdict is known already.
inline CheckPass decided(CheckResult c) {
    return {{}, [c = std::move(c)] { return c; }};
}

// A check over its own state: `visit(state, request)` for each request, then `judge(state)`.
template <class State, class Visit, class Judge> CheckPass with_state(State initial, Visit visit, Judge judge) {
    auto state = std::make_shared<State>(std::move(initial));
    return {[state, visit](const RequestRecord& r) { visit(*state, r); }, [state, judge] { return judge(*state); }};
}

// A check over the requests `predicate` matches: how many, the first `keep`, the earliest moment.
template <class Predicate, class Judge> CheckPass over_matches(Predicate predicate, Judge judge, std::size_t keep = evidence_limit) {
    return with_state(
        Matches(keep), [predicate](Matches& m, const RequestRecord& r) { if (predicate(r)) m.add(r); }, judge);
}

CheckResult make(std::string name, std::string bound, std::string measured, bool ok, std::string message = {});
CheckResult skipped(std::string name, std::string why);
// The run's only check when the target died before the first signal (RunResult::died_before_signal).
CheckResult alive_until_signal(const RunResult& run);
// The same check with the numbers behind its strings.
CheckResult with_numbers(CheckResult c, CheckNumbers numbers);
// A count of offending things that must be `== bound` (0 unless said): streams cut, jobs lost...
CheckNumbers offending_count(std::size_t count, std::string unit, std::size_t bound = 0);
// The first offending requests as evidence lines, "... and N more" for the rest, and the check's
// moment: the earliest of them all.
void add_evidence(CheckResult& c, const Matches& offending, const Facts& f);

// By concern, each in its own file; `f` outlives what they return.
std::vector<CheckPass> request_checks(const Facts& f);  // checks_requests.cpp
std::vector<CheckPass> process_checks(const Facts& f);  // checks_process.cpp
std::vector<CheckPass> state_checks(const Facts& f);    // checks_state.cpp
std::vector<CheckPass> stream_checks(const Facts& f);   // checks_streams.cpp
std::vector<CheckPass> worker_checks(const Facts& f);   // checks_workers.cpp

} // namespace lastcall::harness::checks
