// report.html's workload lanes: one per workload, the requests that ended in each time bucket
// stacked by outcome in the main chart's colours, so "the sse workload lost 3 streams at 2.1 s"
// reads at a glance.
#include "html_parts.hpp"

#include <fmt/format.h>

#include <vector>

namespace lastcall::reports::html {

namespace {

// A bucket's count is scaled to the lane's own peak; an outcome other than ok that is there at all
// is drawn at least this tall, so 3 dropped among 300 ok do not vanish under a pixel.
constexpr double min_failure_height = 2.5;
constexpr std::size_t max_name_chars = 8;  // what fits left of the plot (46 units) at the lanes' font size

std::string short_name(const std::string& name) {
    return name.size() <= max_name_chars ? name : name.substr(0, max_name_chars - 1) + "\u2026";
}

std::string describe_counts(const Counts& counts) {
    std::string out;
    for (const auto& [outcome, colour] : layers) {
        if (counts[static_cast<std::size_t>(outcome)] == 0) continue;
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", harness::to_string(outcome), counts[static_cast<std::size_t>(outcome)]);
    }
    return out.empty() ? "none" : out;
}

} // namespace

int workload_lane_count(const harness::RunResult& run) { return static_cast<int>(run.workload_names.size()); }

std::string workload_lanes_svg(const harness::RunResult& run, const RequestTallies& tallies, const Scale& scale, int top) {
    const auto workloads = run.workload_names.size();
    if (workloads == 0) return {};
    const auto& ended = tallies.ended;
    const auto& totals = tallies.totals;
    const double bucket_us = scale.end_us / buckets;
    std::string svg = fmt::format(R"(<text x="4" y="{}" fill="#555">requests ended, by workload</text>)", top - 3);
    for (std::size_t w = 0; w < workloads; ++w) {
        const int y0 = top + static_cast<int>(w) * (workload_lane_height + workload_lane_gap);
        const auto& name = run.workload_names[w];
        std::uint64_t peak = 1;
        for (const auto& bucket : ended[w]) {
            std::uint64_t total = 0;
            for (const auto n : bucket) total += n;
            peak = std::max(peak, total);
        }
        svg += fmt::format(R"(<g class="lane" data-w="{}"><rect x="{}" y="{}" width="{}" height="{}" fill="#f7f7f7"><title>{}: {} (peak {} per {:.0f} ms)</title></rect>)",
                           w, left, y0, width - left - right, workload_lane_height, escape(name), describe_counts(totals[w]), peak, bucket_us / 1e3);
        svg += fmt::format(R"(<text class="lane-name" x="{}" y="{}" text-anchor="end" font-size="9" fill="#333">{}<title>{}</title></text>)", left - 3,
                           y0 + workload_lane_height / 2 + 4, escape(short_name(name)), escape(name));
        std::string bars;
        for (int b = 0; b < buckets; ++b) {
            const auto& counts = ended[w][static_cast<std::size_t>(b)];
            double base = y0 + workload_lane_height;
            for (const auto& [outcome, colour] : layers) {
                const auto n = counts[static_cast<std::size_t>(outcome)];
                if (n == 0) continue;
                double h = workload_lane_height * static_cast<double>(n) / static_cast<double>(peak);
                if (outcome != Outcome::ok) h = std::max(h, min_failure_height);
                h = std::min(h, base - y0);  // never above the lane
                base -= h;
                const double a = b * bucket_us, z = (b + 1) * bucket_us;
                bars += fmt::format(R"(<rect class="wl" data-w="{}" data-a="{:.0f}" data-b="{:.0f}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">)"
                                   R"(<title>{} {:.3f}-{:.3f}s: {}</title></rect>)",
                                   w, a, z, scale.x(a), base, std::max(0.5, scale.x(z) - scale.x(a)), h, colour, escape(name), a / 1e6, z / 1e6,
                                   describe_counts(counts));
            }
        }
        svg += zoomable(bars) + "</g>";
    }
    return svg;
}

} // namespace lastcall::reports::html
