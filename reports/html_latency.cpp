// report.html's latency lane: a scatter of the embedded requests (html_requests.cpp), x their
// intended start, y their latency (intended start to end, as latency_ms counts it) on a log scale
// with a tick per power of ten, coloured by outcome; not-ok requests drawn last, on top.
#include "html_parts.hpp"

#include <fmt/format.h>

namespace lastcall::reports::html {

namespace {

std::string duration_text(double us) {
    if (us < 1e3) return fmt::format("{:g}\u00b5s", us);
    if (us < 1e6) return fmt::format("{:g}ms", us / 1e3);
    return fmt::format("{:g}s", us / 1e6);
}

const char* colour_of(Outcome outcome) {
    for (const auto& [o, colour] : layers) {
        if (o == outcome) return colour;
    }
    return "#000";
}

} // namespace

std::int64_t request_latency_us(const harness::RequestRecord& r) {
    const auto start = r.intended_us >= 0 ? r.intended_us : r.sent_us;
    return r.done_us < 0 || start < 0 ? -1 : std::max<std::int64_t>(1, r.done_us - start);
}

std::string latency_lane_svg(const EmbeddedRequests& embedded, const Scale& scale, int top) {
    std::int64_t low = INT64_MAX, high = 0;
    for (const auto& r : embedded.records) {
        const auto us = request_latency_us(r);
        if (us < 0) continue;
        low = std::min(low, us);
        high = std::max(high, us);
    }
    std::string svg = fmt::format(R"(<text x="4" y="{}" fill="#555">latency of each request (intended start to end, log scale), by its start{}</text>)", top - 8,
                                  embedded.records.size() < embedded.total
                                      ? fmt::format(": {} of {} requests, {} of {} not ok and {} of {} ok evenly spaced", embedded.records.size(),
                                                    embedded.total, embedded.not_ok_kept, embedded.not_ok, embedded.ok_kept, embedded.ok_total)
                                      : "");
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="#fafafa"/>)", left, top, width - left - right, latency_lane_height);
    if (high == 0) return svg + fmt::format(R"(<text x="{}" y="{}" fill="#999">no request ended</text>)", left + 6, top + latency_lane_height / 2);
    // A decade at least, from the power of ten at or below the fastest to the one at or above the slowest.
    const double from = std::floor(std::log10(static_cast<double>(low))), to = std::max(from + 1, std::ceil(std::log10(static_cast<double>(high))));
    const auto y = [&](double us) { return top + latency_lane_height - latency_lane_height * (std::log10(us) - from) / (to - from); };
    const int every = static_cast<int>(to - from) > 6 ? 2 : 1;  // ticks stay apart on a wide range
    for (int d = static_cast<int>(from); d <= static_cast<int>(to); d += every) {
        const double us = std::pow(10.0, d);
        svg += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#e6e6e6"/><text class="ltick" x="{3}" y="{4:.1f}" text-anchor="end" fill="#555" font-size="10">{5}</text>)",
                           left, y(us), width - right, left - 4, y(us) + 3, duration_text(us));
    }
    // ok first, the others over them.
    std::string ok, others;
    for (std::size_t k = 0; k < embedded.records.size(); ++k) {
        const auto& r = embedded.records[k];
        const auto us = request_latency_us(r);
        if (us < 0) continue;
        auto& into = r.outcome == Outcome::ok ? ok : others;
        into += fmt::format(R"(<path class="pt" data-i="{}" d="M{:.1f} {:.1f}h0" stroke="{}"/>)", k, scale.x(static_cast<double>(r.intended_us >= 0 ? r.intended_us : r.sent_us)),
                            y(static_cast<double>(us)), colour_of(r.outcome));
    }
    return svg + zoomable(ok + others);
}

} // namespace lastcall::reports::html
