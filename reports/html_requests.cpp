// The requests report.html carries one by one (the latency scatter, the drill-down): a bounded
// number, so a run of a million requests still gives a page a browser opens.
#include "html_parts.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>

namespace lastcall::reports::html {

// One pass over the history (it is on disk: harness/run_history.hpp), the counts known from the
// tallies' pass: memory holds only the requests kept.
EmbeddedRequests select_requests(const harness::RunResult& run, const RequestTallies& tallies, std::size_t limit) {
    EmbeddedRequests out;
    out.total = tallies.total;
    out.ok_total = tallies.ok_total;
    out.not_ok = tallies.not_ok;
    out.not_ok_kept = std::min(out.not_ok, limit);
    const auto room = limit - out.not_ok_kept;
    out.ok_kept = std::min(out.ok_total, room);
    // The k-th ok request kept is the one at ok place k * (ok_total - 1) / (kept - 1): evenly spaced
    // over the run (the history is in intended-start order), the first and the last kept.
    const auto ok_place_of = [&](std::size_t k) { return out.ok_kept == out.ok_total || out.ok_kept == 1 ? k : k * (out.ok_total - 1) / (out.ok_kept - 1); };
    std::vector<std::size_t> ok_indices;
    std::vector<harness::RequestRecord> ok_records;
    std::size_t place = 0, ok_place = 0, next_ok = 0;
    harness::for_each_request(run, [&](const harness::RequestRecord& r) {
        if (r.outcome != Outcome::ok) {
            if (out.indices.size() < out.not_ok_kept) {
                out.indices.push_back(place);
                out.records.push_back(r);
            }
        } else {
            if (next_ok < out.ok_kept && ok_place == ok_place_of(next_ok)) {
                ok_indices.push_back(place);
                ok_records.push_back(r);
                ++next_ok;
            }
            ++ok_place;
        }
        ++place;
    });
    out.indices.insert(out.indices.end(), ok_indices.begin(), ok_indices.end());
    out.records.insert(out.records.end(), std::make_move_iterator(ok_records.begin()), std::make_move_iterator(ok_records.end()));
    return out;
}

std::string requests_json(const harness::RunResult& run, const EmbeddedRequests& embedded) {
    using nlohmann::json;
    // A row per request, its fields named once (a page of 20,000 requests stays a few MB).
    static const json fields = {"id", "workload", "intended_us", "sent_us", "first_byte_us", "done_us", "outcome", "failure", "status", "bytes",
                                "body_bytes", "events", "stream_end", "connection", "reuse", "connection_close", "closed_after_us", "retry_of",
                                "retried", "retry_after_s"};
    json rows = json::array();
    for (const auto& r : embedded.records) {
        rows.push_back({r.id, r.workload, r.intended_us, r.sent_us, r.first_byte_us, r.done_us, harness::to_string(r.outcome),
                        harness::to_string(r.failure), r.status, r.bytes, r.body_bytes, r.events, harness::to_string(r.stream_end), r.connection_id,
                        r.reuse_index, r.connection_close, r.closed_after_us, r.retry_of, r.retried, r.retry_after_s});
    }
    json colours = json::object();
    for (const auto& [outcome, colour] : layers) colours[std::string(harness::to_string(outcome))] = colour;
    const json page{{"fields", fields},       {"workloads", run.workload_names}, {"colours", colours},        {"requests_total", embedded.total},
                    {"not_ok", embedded.not_ok}, {"not_ok_kept", embedded.not_ok_kept}, {"ok_total", embedded.ok_total}, {"ok_kept", embedded.ok_kept},
                    {"requests", rows}};
    // Inside <script>, "</script>" or "<!--" in a workload's name would end or bend the element: no
    // '<' is left raw (JSON has it only inside strings, where \u003c means the same).
    std::string text;
    for (const char c : page.dump(-1, ' ', false, json::error_handler_t::replace)) {
        if (c == '<') text += "\\u003c";
        else text += c;
    }
    return text;
}

} // namespace lastcall::reports::html
