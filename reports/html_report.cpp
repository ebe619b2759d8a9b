// report.html: the page, the main timeline (requests in flight, markers, readiness, phases, the time
// axis) and the checks table; its other parts are html_*.cpp (html_parts.hpp).
#include "html_parts.hpp"
#include "reports.hpp"
#include "run_artifacts.hpp"
#include "signals.hpp"

#include "scenario_loader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <string>
#include <vector>

namespace lastcall::reports {

namespace html {

RequestTallies tally_requests(const harness::RunResult& run, const Scale& scale) {
    RequestTallies t;
    const auto workloads = run.workload_names.size();
    t.ended.resize(workloads);
    t.totals.resize(workloads);
    const auto bucket_of = [&scale](std::int64_t us) { return static_cast<int>(static_cast<double>(us) / scale.end_us * buckets); };
    harness::for_each_request(run, [&](const harness::RequestRecord& r) {  // streamed: any length
        ++t.total;
        if (r.outcome == Outcome::ok) ++t.ok_total;
        else ++t.not_ok;
        const auto outcome = static_cast<std::size_t>(r.outcome);
        const auto start = r.sent_us >= 0 ? r.sent_us : r.intended_us;
        const auto last = bucket_of(std::max(r.done_us, start));
        for (int b = std::max(0, bucket_of(start)); b <= std::min(buckets - 1, last); ++b) ++t.in_flight[outcome][static_cast<std::size_t>(b)];
        if (r.workload >= workloads || r.done_us < 0) return;
        const auto ended_in = static_cast<std::size_t>(std::clamp(bucket_of(r.done_us), 0, buckets - 1));
        ++t.ended[r.workload][ended_in][outcome];
        ++t.totals[r.workload][outcome];
    });
    return t;
}

} // namespace html

namespace {

using harness::Outcome;
using namespace html;

// Marker labels: one row per 13 units above the chart; a label takes about 6.2 units per character
// at font-size 11 (sans-serif), enough to keep two labels on one row from touching.
constexpr int title_y = 12, label_rows_top = 20, label_row_height = 13;
constexpr double char_width = 6.2, label_gap = 6;
// A phase or readiness change under 1% of the run would be under a pixel: draw it at least this wide.
constexpr double min_band_width = 3;

// A vertical line at a moment of the run (a signal, the exit, a restart) with its label.
struct Marker {
    double t_us;  // when (the zoom moves its label)
    double x;
    std::string label;
    const char* colour;
    int row = 0;          // label row, 0 nearest the title
    bool left_of = false; // label to the left of the line (it would run past the right edge)
    bool failed_check = false;  // dashed, so it does not read as a signal
};

// Puts each label on the first row where it does not overlap the labels already there, so close
// markers (SIGTERM, then "exit 0" 2 ms later) read as two labels, not one smudge. Returns the rows used.
int place_labels(std::vector<Marker>& markers) {
    std::sort(markers.begin(), markers.end(), [](const Marker& a, const Marker& b) { return a.x < b.x; });
    std::vector<double> row_end;  // right edge of the last label on each row
    for (auto& m : markers) {
        const double w = char_width * static_cast<double>(m.label.size());
        m.left_of = m.x + 3 + w > width;
        const double from = m.left_of ? m.x - 3 - w : m.x + 3, to = m.left_of ? m.x - 3 : m.x + 3 + w;
        std::size_t row = 0;
        while (row < row_end.size() && row_end[row] + label_gap > from) ++row;
        if (row == row_end.size()) row_end.push_back(to);
        row_end[row] = to;
        m.row = static_cast<int>(row);
    }
    return static_cast<int>(std::max<std::size_t>(1, row_end.size()));
}

// Signals, the exit, restarts and "ready again" as vertical markers, with non-colliding labels.
std::vector<Marker> run_markers(const RunVerdict& v, const Scale& scale) {
    const auto& run = v.run;
    std::vector<Marker> markers;
    // A moment's time and where it is drawn.
    const auto at = [&](std::int64_t t_us) { return std::pair<double, double>{static_cast<double>(t_us), scale.x(static_cast<double>(t_us))}; };
    for (const auto& s : run.signals) {
        const bool reload = s.purpose == harness::SignalPurpose::reload;
        markers.push_back({at(s.t_us).first, at(s.t_us).second, harness::signal_name(s.signal) + (reload ? " (reload)" : ""), reload ? "#1565c0" : "#c62828"});
    }
    if (run.exit) markers.push_back({at(run.exit_us).first, at(run.exit_us).second, run.exit->describe(), "#000"});
    for (const auto& g : run.generations) {
        if (g.number <= 1) continue;
        markers.push_back({at(g.spawn_us).first, at(g.spawn_us).second, fmt::format("restart (gen {})", g.number), "#6a1b9a"});
        if (g.ready_us >= 0) markers.push_back({at(g.ready_us).first, at(g.ready_us).second, "ready again", "#2e7d32"});
    }
    // A failed check where it has a moment (its first offending request, the exit, a deadline).
    for (const auto& c : v.checks) {
        if (c.status == harness::CheckStatus::fail && c.at_us >= 0) markers.push_back({at(c.at_us).first, at(c.at_us).second, "\u2717 " + c.name, "#c62828", 0, false, true});
    }
    return markers;
}

// Why the phases lane is empty, in its place (a new user saw an empty lane and could not tell
// whether lastcall had failed to draw it); empty when there are phases to draw.
std::string phases_missing(const harness::TargetReportReading& reading, std::int64_t signal_us) {
    using State = harness::TargetReportReading::State;
    if (signal_us < 0) return "no phases: no shutdown signal was sent";
    if (reading.report && !reading.report->phases.empty()) return "";
    switch (reading.state) {
    case State::not_configured: return "no phases reported: the target publishes none (the scenario names no target.shutdown_report)";
    case State::absent: return "no phases reported: the target wrote no shutdown report" + (reading.detail.empty() ? "" : " (" + reading.detail + ")");
    case State::stale: return "no phases: the shutdown report was left from before this run (" + reading.detail + ")";
    case State::corrupt: return "no phases: the shutdown report could not be read (" + reading.detail + ")";
    case State::ok: break;
    }
    return "no phases reported: the target's shutdown report lists none";
}

std::string timeline_svg(const RunVerdict& v, const RequestTallies& tallies, const EmbeddedRequests& embedded) {
    const auto& run = v.run;
    const auto scale = run_scale(run);
    const auto& in_flight = tallies.in_flight;
    int peak = 1;
    for (int b = 0; b < buckets; ++b) {
        int total = 0;
        for (const auto& layer : in_flight) total += layer[static_cast<std::size_t>(b)];
        peak = std::max(peak, total);
    }
    // The request axis runs to a round number at or above the peak, so its top tick is labelled.
    const double request_step = std::max(1.0, nice_step(peak, 5)), request_top = std::ceil(peak / request_step) * request_step;

    auto markers = run_markers(v, scale);
    const int label_rows = place_labels(markers);
    const int chart_top = label_rows_top + label_rows * label_row_height + 6;
    const auto y = [&](double value) { return chart_top + chart_height - chart_height * value / request_top; };
    const double bucket_us = scale.end_us / buckets;

    const int readiness_y = chart_top + chart_height + 24, phases_y = readiness_y + band_height + 8;
    const int workloads_y = phases_y + band_height + 20;
    const int latency_y = workloads_y + workload_lane_count(run) * (workload_lane_height + workload_lane_gap) + 24;
    const int lanes_y = latency_y + latency_lane_height + 20;
    const int axis_y = lanes_y + process_lane_count(run) * (lane_height + lane_gap) + 16;
    // viewBox and width 100%: the drawing scales to the window instead of clipping past ~1000 px.
    std::string svg = fmt::format(
        R"(<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {1}" width="100%" preserveAspectRatio="xMinYMin meet" style="display:block;max-width:{2}px" font-family="sans-serif" font-size="11")"
        R"( data-left="{3}" data-plot-width="{4}" data-end-us="{5:.0f}" data-axis-y="{6}">)",
        width, axis_y + 26, width * 2, left, width - left - right, scale.end_us, axis_y);
    // The plot's area, a little wider than the plot so a line at t = 0 keeps its width.
    svg += fmt::format(R"(<defs><clipPath id="lc-plot"><rect x="{}" y="0" width="{}" height="{}"/></clipPath></defs>)", left - 2, width - left - right + 4, axis_y);
    svg += fmt::format(R"(<text x="{}" y="{}" fill="#555">requests in flight by outcome (peak {})</text>)", left, title_y, peak);
    // Request axis on the left: gridlines and ticks at round counts.
    for (double tick = 0; tick <= request_top + 1e-9; tick += request_step) {
        svg += fmt::format(R"(<line class="ytick" x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#eee"/><text x="{3}" y="{4:.1f}" text-anchor="end" fill="#555">{5:g}</text>)",
                           left, y(tick), width - right, left - 4, y(tick) + 4, tick);
    }
    std::string moving;  // the chart's shapes, which the zoom stretches
    std::array<int, buckets> base{};
    for (const auto& [outcome, colour] : layers) {
        const auto& layer = in_flight[static_cast<std::size_t>(outcome)];
        if (std::all_of(layer.begin(), layer.end(), [](int n) { return n == 0; })) continue;
        std::string top, bottom;
        for (int b = 0; b < buckets; ++b) {
            const auto i = static_cast<std::size_t>(b);
            top += fmt::format("{:.1f},{:.1f} ", scale.x(b * bucket_us), y(base[i] + layer[i]));
            top += fmt::format("{:.1f},{:.1f} ", scale.x((b + 1) * bucket_us), y(base[i] + layer[i]));
        }
        for (int b = buckets - 1; b >= 0; --b) {
            const auto i = static_cast<std::size_t>(b);
            bottom += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", scale.x((b + 1) * bucket_us), y(base[i]), scale.x(b * bucket_us), y(base[i]));
            base[i] += layer[i];
        }
        moving += fmt::format(R"(<polygon points="{}{}" fill="{}" fill-opacity="0.85"><title>{}</title></polygon>)", top, bottom, colour,
                           harness::to_string(outcome));
    }
    // Open file descriptors on their own axis at the right: a count of fds is not a count of requests.
    int fd_peak = 1;
    for (const auto& s : run.samples) fd_peak = std::max(fd_peak, s.fds);
    if (!run.samples.empty()) {
        const double fd_step = std::max(1.0, nice_step(fd_peak, 5)), fd_top = std::ceil(fd_peak / fd_step) * fd_step;
        const auto fd_y = [&](double fds) { return chart_top + chart_height - chart_height * fds / fd_top; };
        std::string fds;
        for (const auto& s : run.samples) fds += fmt::format("{:.1f},{:.1f} ", scale.x(static_cast<double>(s.t_us)), fd_y(s.fds));
        moving += fmt::format(R"(<polyline points="{}" fill="none" stroke="#333" stroke-width="1.2" stroke-dasharray="3,2"><title>open fds (peak {})</title></polyline>)", fds, fd_peak);
        for (double tick = 0; tick <= fd_top + 1e-9; tick += fd_step) {
            svg += fmt::format(R"(<text class="fdtick" x="{}" y="{:.1f}" fill="#333">{:g}</text>)", width - right + 4, fd_y(tick) + 4, tick);
        }
        svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#999" stroke-dasharray="3,2"/>)", width - right, chart_top,
                           chart_top + chart_height);
        svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end" fill="#333">open fds (right axis, peak {}) - - -</text>)", width - 4, title_y, fd_peak);
    }
    svg += zoomable(moving);
    moving.clear();
    svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#999"/><line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#999"/>)", left,
                       chart_top, chart_top + chart_height, width - right);
    // Readiness as the prober saw it: green ready, red not.
    svg += fmt::format(R"(<text x="4" y="{}" fill="#555">ready</text>)", readiness_y + 12);
    bool ready = true;
    double from = 0;
    const auto band = [&](double a, double b, bool is_ready) {
        if (b <= a) return;  // no time in this state: nothing to widen
        moving += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"/>)", scale.x(a), readiness_y,
                           std::max(min_band_width, scale.x(b) - scale.x(a)), band_height, is_ready ? "#81c784" : "#e57373");
    };
    for (const auto& change : run.readiness) {
        band(from, static_cast<double>(change.t_us), ready);
        from = static_cast<double>(change.t_us);
        ready = change.ready;
    }
    band(from, run.exit_us >= 0 ? static_cast<double>(run.exit_us) : scale.end_us, ready);
    // The target's own phases, from its shutdown report, placed relative to the signal.
    svg += fmt::format(R"(<text x="4" y="{}" fill="#555">phases</text>)", phases_y + 12);
    std::int64_t signal_us = -1;
    for (const auto& s : run.signals) {
        if (s.marks_shutdown() && signal_us < 0) signal_us = s.t_us;
    }
    if (const auto why = phases_missing(run.report, signal_us); !why.empty()) {
        svg += fmt::format(R"(<text x="{}" y="{}" fill="#888">{}</text>)", left, phases_y + 12, escape(why));
    } else {
        static const char* phase_colours[] = {"#ffe082", "#90caf9", "#ce93d8", "#a5d6a7", "#80cbc4", "#bcaaa4"};
        int i = 0;
        for (const auto& p : run.report.report->phases) {
            const double a = static_cast<double>(signal_us) + p.start_ms * 1000;
            const double b = static_cast<double>(signal_us) + p.end_ms * 1000;
            moving += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{} {:.1f}-{:.1f} ms {}</title></rect>)",
                               scale.x(a), phases_y, std::max(min_band_width, scale.x(b) - scale.x(a)), band_height, phase_colours[i++ % 6],
                               escape(p.name), p.start_ms, p.end_ms, escape(p.outcome));
            if (scale.x(b) - scale.x(a) > 40) {
                svg += fmt::format(R"(<text data-t="{:.0f}" data-dx="3" x="{:.1f}" y="{}">{}</text>)", a, scale.x(a) + 3, phases_y + 12, escape(p.name));
            }
        }
    }
    svg += zoomable(moving);
    svg += workload_lanes_svg(run, tallies, scale, workloads_y);
    svg += latency_lane_svg(embedded, scale, latency_y);
    svg += process_lanes_svg(run, scale, lanes_y);
    std::string lines;
    for (const auto& m : markers) {
        const int label_y = label_rows_top + m.row * label_row_height + 10;
        lines += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="{3}" stroke-width="1.5" stroke-opacity="0.7"{4}/>)", m.x, label_y + 2,
                             axis_y - 16, m.colour, m.failed_check ? R"( stroke-dasharray="5,3")" : "");
        svg += fmt::format(R"(<text class="marker" data-t="{:.0f}" data-dx="{}" x="{:.1f}" y="{}" text-anchor="{}" fill="{}">{}</text>)", m.t_us,
                           m.left_of ? -3 : 3, m.left_of ? m.x - 3 : m.x + 3, label_y, m.left_of ? "end" : "start", m.colour, escape(m.label));
    }
    svg += zoomable(lines);
    // Time axis.
    const double step_s = nice_step(scale.end_us / 1e6, 10);
    for (int i = 0; i * step_s * 1e6 <= scale.end_us * (1 + 1e-9); ++i) {  // by index: summed steps drift
        const double t = i * step_s;
        svg += fmt::format(R"(<text class="xtick" x="{:.1f}" y="{}" text-anchor="middle" fill="#555">{:g}s</text>)", scale.x(t * 1e6), axis_y, t);
    }
    // Failed checks that judged the run as a whole (no moment to place them at) are listed under the time axis.
    std::string failed;
    for (const auto& c : v.checks) {
        if (c.status == harness::CheckStatus::fail && c.at_us < 0) failed += (failed.empty() ? "" : ", ") + escape(c.name);
    }
    if (!failed.empty()) svg += fmt::format(R"(<text class="failed" x="4" y="{}" fill="#c62828">failed checks without a moment: {}</text>)", axis_y + 18, failed);
    return svg + "</svg>";
}

// Under the timeline: what the page carries one by one, the panel a click fills, the data and the script.
std::string drilldown_html(const RunVerdict& v, const EmbeddedRequests& embedded) {
    const auto total = embedded.total;
    const auto shortened = harness::history_jsonl_shortened(v.run);
    auto carried = embedded.records.size() == total
                       ? fmt::format("The page carries all {} requests one by one.", total)
                       : fmt::format("The page carries {} of the {} requests one by one: {} of the {} not ok{}, and {} of the {} ok ones, evenly spaced "
                                     "over the run{}",
                                     embedded.records.size(), total, embedded.not_ok_kept, embedded.not_ok,
                                     embedded.not_ok_kept == embedded.not_ok ? " (all)" : "", embedded.ok_kept, embedded.ok_total,
                                     shortened.empty() ? "; history.jsonl in the run directory has every one." : ".");
    // Never silently: a history.jsonl that left ok requests out says so here.
    if (!shortened.empty()) carried += " " + shortened + ".";
    // Past the sorted history's own cap the records are fewer than the requests the counts above say.
    if (v.run.history_dropped > 0) {
        carried += fmt::format(" {} of the {} requests were not recorded past limits.history_bytes: the counts above are of every request, the "
                               "timeline and its lanes draw the {} recorded.",
                               v.run.history_dropped, v.run.requests, v.run.requests - v.run.history_dropped);
    }
    return fmt::format(R"(<div class="note">{}</div>
<div id="lc-detail" class="detail">Click a request in the latency lane for its timeline, or a bucket of a workload lane for the requests that ended there.</div>
<script type="application/json" id="lc-requests">{}</script>
<script>{}{}</script>
)",
                       carried, requests_json(v.run, embedded), drilldown_script(), zoom_script());
}

} // namespace

std::string html_report(const RunVerdict& v) {
    const auto tallies = tally_requests(v.run, run_scale(v.run));
    const auto embedded = select_requests(v.run, tallies);
    std::string legend;
    for (const auto& [outcome, colour] : layers) {
        legend += fmt::format(R"(<span><i style="background:{}"></i>{} {}</span>)", colour, harness::to_string(outcome),
                              v.run.outcomes[static_cast<std::size_t>(outcome)]);
    }
    std::string rows;
    for (const auto& c : v.checks) {
        std::string evidence;
        for (const auto& e : c.evidence) evidence += "<div class=ev>" + escape(e) + "</div>";
        rows += fmt::format("<tr class={0}><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}{5}</td></tr>\n", harness::to_string(c.status),
                            escape(c.name), escape(c.bound), escape(c.measured), escape(c.message), evidence);
    }
    return fmt::format(R"(<!doctype html>
<html><head><meta charset="utf-8"><title>lastcall: {0}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} .verdict {{ font-weight: bold; color: {1}; }}
.legend span {{ margin-right: 14px; font-size: 13px; }} .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
table {{ border-collapse: collapse; margin-top: 16px; font-size: 13px; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }}
tr.fail td:first-child {{ color: #c62828; font-weight: bold; }} tr.pass td:first-child {{ color: #2e7d32; }} tr.skip {{ color: #999; }}
.ev {{ font-family: monospace; font-size: 11px; color: #555; }}
.pt {{ stroke-width: 4; stroke-linecap: round; stroke-opacity: 0.75; cursor: pointer; }} .wl {{ cursor: pointer; }}
.note {{ color: #666; font-size: 12px; margin-top: 6px; }}
g.zoom * {{ vector-effect: non-scaling-stroke; }} svg.timeline {{ user-select: none; }}
.zoombar {{ font-size: 12px; color: #666; margin: 6px 0 2px; }} .zoombar button {{ font-size: 12px; margin-right: 4px; }}
.detail {{ border: 1px solid #ddd; background: #fcfcfc; padding: 8px 12px; margin-top: 6px; font-size: 13px; min-height: 40px; }}
.detail table.req {{ margin-top: 4px; }} .detail table.req td {{ padding: 1px 10px 1px 0; border: none; }} .req-list {{ margin: 4px 0; }}
</style></head><body>
<h1>{0} <span class="verdict">{2}</span></h1>
<div>{3}</div>
<div style="color:#666;font-size:12px">{4} requests, target {5}, run {6}{10}</div>
<div class="legend">{7}</div>
<div class="zoombar"><button id="lc-zoom-in" title="zoom in">+</button><button id="lc-zoom-out" title="zoom out">&minus;</button><button id="lc-zoom-reset">reset zoom</button> <span id="lc-zoom-range">the whole run</span></div>
{8}
<table><tr><th></th><th>check</th><th>bound</th><th>measured</th><th>detail</th></tr>
{9}</table>
</body></html>
)",
                       escape(v.scenario->name), v.passed() ? "#2e7d32" : "#c62828", v.passed() ? "PASS" : "FAIL", escape(v.scenario->description),
                       v.run.requests, v.run.exit ? escape(v.run.exit->describe()) : "did not exit", escape(v.run.run_dir.string()), legend,
                       timeline_svg(v, tallies, embedded) + drilldown_html(v, embedded), rows,
                       v.run.proxied ? "<br>" + escape(harness::proxy::describe(harness::proxy::summarize(v.run.proxy_records))) : std::string());
}

} // namespace lastcall::reports
