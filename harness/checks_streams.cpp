// streams_resumed: a stream the judged generation ended by shutdown was asked for again with its
// last event id (stream.resume) and a later generation sent the rest: the first id after is the
// next one after the last id before (no gap, no duplicate), the ids of the rest follow each other,
// and the rest ended cleanly. The LLM case: what was generated is kept, not generated again.
#include "check_facts.hpp"

#include "text_rules.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace lastcall::harness::checks {

namespace {

constexpr const char* resumed_bound = "every stream ended by shutdown resumed after the restart, no gap, no duplicate";

struct Generations {
    std::int64_t start_us = std::numeric_limits<std::int64_t>::min();  // the judged generation's spawn
    std::int64_t restart_us = -1;  // the next generation's spawn; -1: none
};

Generations judged_span(const RunResult& run) {
    Generations g;
    const auto judged = static_cast<std::size_t>(std::max(1, run.judged_generation) - 1);
    if (judged < run.generations.size()) g.start_us = run.generations[judged].spawn_us;
    if (judged + 1 < run.generations.size()) g.restart_us = run.generations[judged + 1].spawn_us;
    return g;
}

std::string shown_id(std::string_view id) { return id.empty() ? "(none)" : "'" + printable(id) + "'"; }

// What is wrong with one stream's resumption; empty when it resumed as it should.
std::string judge_one(const Facts& f, const RequestRecord& ended, const StreamTrail* before,
                      const std::vector<std::pair<const RequestRecord*, const StreamTrail*>>& attempts, std::int64_t restart_us) {
    const auto name = ended.workload < f.run.workload_names.size() ? f.run.workload_names[ended.workload] : "?";
    const std::string last_before = before ? before->last_id : std::string{};
    const auto head = fmt::format("stream #{} ({}) ended by shutdown at {}, last id before {}", ended.id, name, seconds(ended.done_us),
                                  shown_id(last_before));
    const auto answered = std::find_if(attempts.begin(), attempts.end(), [](const auto& a) { return a.first->status / 100 == 2; });
    if (answered == attempts.end()) {
        if (attempts.empty()) return head + ": never asked for again (the workload stopped before the restart?)";
        const auto& last = *attempts.back().first;
        return fmt::format("{}: {} reconnects, none answered 2xx (last: status {} -> {}{})", head, attempts.size(), last.status,
                           to_string(last.outcome), last.failure == Failure::none ? "" : fmt::format(" ({})", to_string(last.failure)));
    }
    const auto& [resume, after] = *answered;
    const auto resumed = fmt::format("{}; resumed by #{} sent {}, first id after {}", head, resume->id, seconds(resume->sent_us),
                                     shown_id(after->first_id));
    if (restart_us < 0 || resume->sent_us < restart_us) return resumed + ": answered before the target restarted";
    if (!last_before.empty()) {
        if (after->first_id.empty()) return resumed + ": the rest carried no event id";
        if (const auto join = join_of(last_before, after->first_id); join != IdJoin::follows) return fmt::format("{}: {}", resumed, to_string(join));
    }
    if (after->breaks > 0) return fmt::format("{}: ids inside the rest do not follow ({}, {} times)", resumed, after->first_break, after->breaks);
    if (resume->outcome != Outcome::ok && resume->outcome != Outcome::ended_by_shutdown) {
        return fmt::format("{}: the rest did not end cleanly ({}{})", resumed, to_string(resume->outcome),
                           resume->failure == Failure::none ? "" : fmt::format(", {}", to_string(resume->failure)));
    }
    return {};
}

// Copies of the streams ended by shutdown and of the reconnects that resumed them (a trail names
// each): no more than the stream trails already held.
struct Resumptions {
    std::vector<RequestRecord> ended;
    std::map<std::uint64_t, RequestRecord> record_of;  // reconnects, by request id
    std::set<std::uint64_t> found;
};

CheckResult streams_resumed(const Facts& f, Resumptions& seen);

CheckPass check_streams_resumed(const Facts& f) {
    if (!f.scenario.expect.streams_resumed) return decided(skipped("streams_resumed", "not expected"));
    Resumptions seen;
    for (const auto& t : f.run.stream_trails) {
        if (t.resume_of != 0) seen.record_of.emplace(t.request_id, RequestRecord{});
    }
    const auto span = judged_span(f.run);
    return with_state(
        std::move(seen),
        [&f, span](Resumptions& s, const RequestRecord& r) {
            const bool resumable = r.workload < f.scenario.workloads.size() && f.scenario.workloads[r.workload].stream.resume &&
                                   r.outcome == Outcome::ended_by_shutdown && r.sent_us >= span.start_us &&
                                   (span.restart_us < 0 || r.sent_us < span.restart_us);
            if (resumable) s.ended.push_back(r);
            if (const auto it = s.record_of.find(r.id); it != s.record_of.end()) {
                it->second = r;  // the last with this id, as a map of the whole history had it
                s.found.insert(r.id);
            }
        },
        [&f](Resumptions& s) { return streams_resumed(f, s); });
}

CheckResult streams_resumed(const Facts& f, Resumptions& seen) {
    std::map<std::uint64_t, const StreamTrail*> trail_of;
    std::map<std::uint64_t, std::vector<const StreamTrail*>> resumes_of;
    for (const auto& t : f.run.stream_trails) {
        trail_of[t.request_id] = &t;
        if (t.resume_of != 0) resumes_of[t.resume_of].push_back(&t);
    }
    const auto span = judged_span(f.run);
    auto& [ended, record_of, found] = seen;
    for (auto it = record_of.begin(); it != record_of.end();) it = found.contains(it->first) ? std::next(it) : record_of.erase(it);
    if (ended.empty()) {
        return make("streams_resumed", resumed_bound, "0 ended by shutdown", false,
                    "no stream was ended by shutdown in the judged generation: nothing was resumed (signal while streams run)");
    }
    if (!f.run.restart_error.empty()) {
        return make("streams_resumed", resumed_bound, "no restart", false, "the restarted target did not come up: " + f.run.restart_error);
    }
    if (span.restart_us < 0) {
        return make("streams_resumed", resumed_bound, "no restart", false,
                    "the scenario never restarted the target (add `when: exited` + `restart_target: true` to the timeline)");
    }
    std::vector<std::string> problems;
    for (const auto& r : ended) {
        std::vector<std::pair<const RequestRecord*, const StreamTrail*>> attempts;
        for (const auto* t : resumes_of[r.id]) {
            if (const auto it = record_of.find(t->request_id); it != record_of.end()) attempts.emplace_back(&it->second, t);
        }
        std::sort(attempts.begin(), attempts.end(), [](const auto& a, const auto& b) { return a.first->sent_us < b.first->sent_us; });
        const auto it = trail_of.find(r.id);
        if (auto problem = judge_one(f, r, it == trail_of.end() ? nullptr : it->second, attempts, span.restart_us); !problem.empty()) {
            problems.push_back(std::move(problem));
        }
    }
    auto c = make("streams_resumed", resumed_bound, fmt::format("{} of {} resumed", ended.size() - problems.size(), ended.size()), problems.empty(),
                  fmt::format("{} of {} streams ended by shutdown were not resumed without a gap or duplicate", problems.size(), ended.size()));
    c.numbers = offending_count(problems.size(), "streams");
    for (std::size_t i = 0; i < problems.size() && i < evidence_limit; ++i) c.evidence.push_back(problems[i]);
    if (problems.size() > evidence_limit) c.evidence.push_back(fmt::format("... and {} more", problems.size() - evidence_limit));
    return c;
}

} // namespace

std::vector<CheckPass> stream_checks(const Facts& f) { return {check_streams_resumed(f)}; }

} // namespace lastcall::harness::checks
