#pragma once
// What the parts of report.html share: the drawing's units, the time scale, the outcome colours,
// escaping and round ticks. html_report.cpp draws the page and the main timeline; the other
// html_*.cpp files draw one part each.
#include "checks.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::reports::html {

using harness::Outcome;

// The drawing's own units; the SVG scales to the window (viewBox, width 100%), so these fix the
// proportions and the text size relative to the chart, not pixels on screen.
constexpr int width = 1000, chart_height = 260, band_height = 16, left = 50, right = 50;
constexpr int buckets = 250;

// Drawing order, bottom to top; the colour a reader looks for first (dropped) goes on top.
constexpr std::array<std::pair<Outcome, const char*>, 7> layers{{
    {Outcome::ok, "#4caf50"},          {Outcome::ended_by_shutdown, "#2196f3"}, {Outcome::rejected, "#ffb300"},
    {Outcome::idle_close_race, "#ab47bc"}, {Outcome::error, "#795548"},     {Outcome::unknown, "#9e9e9e"},
    {Outcome::dropped, "#e53935"},
}};

inline std::string escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

// The run's time (µs since the load started) across the drawing, left to right.
struct Scale {
    double end_us;
    double x(double t_us) const { return left + (width - left - right) * std::clamp(t_us / end_us, 0.0, 1.0); }
};

// A round step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`.
inline double nice_step(double span, int ticks) {
    const double raw = span / ticks;
    if (!(raw > 0)) return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double f : {1.0, 2.0, 5.0}) {
        if (f * magnitude >= raw) return f * magnitude;
    }
    return 10 * magnitude;
}

// The scale of a run's drawing: the run, or its exit and a little after.
inline Scale run_scale(const harness::RunResult& run) {
    return Scale{std::max<double>({static_cast<double>(run.duration_us), static_cast<double>(run.exit_us) + 100'000, 1.0})};
}

// Requests counted by outcome.
using Counts = std::array<std::uint64_t, harness::outcome_count>;

// What report.html draws from every request, gathered in one pass over the history (it is on
// disk: harness/run_history.hpp): the main chart's requests in flight, the workload lanes' ends,
// and the counts select_requests needs. The page then makes one more pass, for the requests it
// carries one by one.
struct RequestTallies {
    std::array<std::array<int, buckets>, harness::outcome_count> in_flight{};  // by outcome and bucket: [sent, done] overlaps it
    std::vector<std::array<Counts, buckets>> ended;  // by workload, bucket (when they ended) and outcome
    std::vector<Counts> totals;                      // by workload and outcome
    std::size_t total = 0, ok_total = 0, not_ok = 0;
};
RequestTallies tally_requests(const harness::RunResult& run, const Scale& scale);  // html_report.cpp

// What moves with the zoom (html_script.cpp's zoom_script): shapes placed by time, inside a group
// the script stretches along x, clipped to the plot. Text is never inside (it would stretch): text
// placed by time carries data-t (µs) and data-dx, and the script moves it.
inline std::string zoomable(const std::string& shapes) {
    return R"svg(<g clip-path="url(#lc-plot)"><g class="zoom">)svg" + shapes + "</g></g>";
}

// html_process_lanes.cpp: one lane per process of the target, from `top`; how many rows they take.
std::string process_lanes_svg(const harness::RunResult& run, const Scale& scale, int top);
int process_lane_count(const harness::RunResult& run);
inline constexpr int lane_height = 9, lane_gap = 2;

// html_workload_lanes.cpp: one lane per workload (its requests' outcomes over time), from `top`.
std::string workload_lanes_svg(const harness::RunResult& run, const RequestTallies& tallies, const Scale& scale, int top);
int workload_lane_count(const harness::RunResult& run);
inline constexpr int workload_lane_height = 22, workload_lane_gap = 4;

// html_requests.cpp: the requests the page carries one by one (the scatter, the drill-down): at
// most `limit`, every one not ok first, then ok ones evenly spaced (from `tallies`' counts: one
// pass over the history). Indices into the run's order.
struct EmbeddedRequests {
    std::vector<std::size_t> indices;              // their places in the run's order (for_each_request)
    std::vector<harness::RequestRecord> records;   // the same requests, copied: the history is on disk
    std::size_t total = 0, not_ok = 0, not_ok_kept = 0, ok_total = 0, ok_kept = 0;
};
inline constexpr std::size_t max_embedded_requests = 20'000;
EmbeddedRequests select_requests(const harness::RunResult& run, const RequestTallies& tallies, std::size_t limit = max_embedded_requests);
// The embedded requests as the JSON the page's script reads (`fields`, `workloads`, `colours`, the
// counts, `requests`: a row each), safe inside a <script> element.
std::string requests_json(const harness::RunResult& run, const EmbeddedRequests& embedded);

// html_script.cpp: the page's own script (no file, no network): the drill-down and the zoom.
std::string drilldown_script();
// Zoom: drag across the timeline (or + / -) rescales every lane; reset goes back to the whole run.
std::string zoom_script();

// html_latency.cpp: the latency lane, a scatter of the embedded requests; -1 for one that never ended.
std::int64_t request_latency_us(const harness::RequestRecord& r);
std::string latency_lane_svg(const EmbeddedRequests& embedded, const Scale& scale, int top);
inline constexpr int latency_lane_height = 110;

} // namespace lastcall::reports::html
