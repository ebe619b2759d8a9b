// The requests report.html carries one by one (the latency scatter, the drill-down): a bounded
// number, so a run of a million requests still gives a page a browser opens.
#include "html_parts.hpp"

#include <nlohmann/json.hpp>

namespace lastcall::reports::html {

EmbeddedRequests select_requests(const harness::RunResult& run, std::size_t limit) {
    EmbeddedRequests out;
    std::vector<std::size_t> ok;
    for (std::size_t i = 0; i < run.history.size(); ++i) {
        if (run.history[i].outcome == Outcome::ok) {
            ok.push_back(i);
        } else {
            ++out.not_ok;
            if (out.indices.size() < limit) out.indices.push_back(i);
        }
    }
    out.not_ok_kept = out.indices.size();
    out.ok_total = ok.size();
    const auto room = limit - out.indices.size();
    // Evenly spaced over the run (the history is in intended-start order), the first and the last kept.
    if (ok.size() <= room) {
        out.indices.insert(out.indices.end(), ok.begin(), ok.end());
    } else if (room > 0) {
        for (std::size_t k = 0; k < room; ++k) out.indices.push_back(ok[room == 1 ? 0 : k * (ok.size() - 1) / (room - 1)]);
    }
    out.ok_kept = out.indices.size() - out.not_ok_kept;
    return out;
}

std::string requests_json(const harness::RunResult& run, const EmbeddedRequests& embedded) {
    using nlohmann::json;
    // A row per request, its fields named once (a page of 20,000 requests stays a few MB).
    static const json fields = {"id", "workload", "intended_us", "sent_us", "first_byte_us", "done_us", "outcome", "failure", "status", "bytes",
                                "body_bytes", "events", "stream_end", "connection", "reuse", "connection_close", "closed_after_us", "retry_of",
                                "retried", "retry_after_s"};
    json rows = json::array();
    for (const auto i : embedded.indices) {
        const auto& r = run.history[i];
        rows.push_back({r.id, r.workload, r.intended_us, r.sent_us, r.first_byte_us, r.done_us, harness::to_string(r.outcome),
                        harness::to_string(r.failure), r.status, r.bytes, r.body_bytes, r.events, harness::to_string(r.stream_end), r.connection_id,
                        r.reuse_index, r.connection_close, r.closed_after_us, r.retry_of, r.retried, r.retry_after_s});
    }
    json colours = json::object();
    for (const auto& [outcome, colour] : layers) colours[std::string(harness::to_string(outcome))] = colour;
    const json page{{"fields", fields},       {"workloads", run.workload_names}, {"colours", colours},        {"requests_total", run.history.size()},
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
