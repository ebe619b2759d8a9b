// The requests report.html carries one by one (the latency scatter, the drill-down): a bounded
// number, so a run of a million requests still gives a page a browser opens.
#include "html_parts.hpp"

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

} // namespace lastcall::reports::html
