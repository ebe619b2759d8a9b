// report.html's process lanes: one per process of the target (its generations' main processes
// aside), born to gone, coloured by how it ended.
#include "html_parts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace lastcall::reports::html {

namespace {

constexpr std::size_t max_lanes = 48;

// How a process ended, for its lane's colour: from the target's report where it names the pid (a
// master's workers[]), else what lastcall saw.
std::pair<const char*, std::string> process_end(const harness::RunResult& run, const harness::ProcessLife& p) {
    if (p.end_us() < 0) return {"#a5d6a7", "alive at the end"};
    for (const auto& s : run.signals) {
        if (s.delivered && s.signal == SIGKILL && std::find(s.pids.begin(), s.pids.end(), p.pid) != s.pids.end()) {
            return {"#6d4c41", "killed by lastcall (SIGKILL)"};
        }
    }
    if (run.report.report && run.report.report->workers) {
        for (const auto& w : *run.report.report->workers) {
            if (w.pid != p.pid || w.exit.empty()) continue;
            const char* colour = w.fate == "drained" ? "#66bb6a" : w.fate == "killed" ? "#e53935" : "#fb8c00";
            return {colour, fmt::format("worker {}: {} ({}, while {})", w.id, w.fate, w.exit, w.ended_while)};
        }
    }
    if (p.exit) {  // the kernel's word, with no report to name the fate
        const bool clean = p.exit->exited && p.exit->code == 0;
        return {clean ? "#66bb6a" : p.exit->exited ? "#fb8c00" : "#e53935", p.exit->describe() + " (the kernel)"};
    }
    return {"#90a4ae", "ended (status unknown: not lastcall's child)"};
}

} // namespace

// One lane per process of the target (its generations' main processes aside): born to its end (the
// kernel's time, else the /proc scan's), coloured by how it ended; reloads as markers.
std::string process_lanes_svg(const harness::RunResult& run, const Scale& scale, int top) {
    // Its caption above the lanes, as the other lanes': left of them it ran into the first lane.
    std::string svg = fmt::format(R"(<text x="4" y="{}" fill="#555">processes of the target{}</text>)", top - 3, run.processes.empty() ? ": none seen" : "");
    std::string bars;
    std::size_t drawn = 0;
    for (const auto& p : run.processes) {
        if (drawn == max_lanes) {
            svg += fmt::format(R"(<text x="{}" y="{}" fill="#555">... and {} more (run.json)</text>)", left, top + static_cast<int>(drawn) * (lane_height + lane_gap) + lane_height,
                               run.processes.size() - drawn);
            break;
        }
        const int y = top + static_cast<int>(drawn++) * (lane_height + lane_gap);
        const auto end = p.end_us() >= 0 ? static_cast<double>(p.end_us()) : scale.end_us;
        const auto a = scale.x(static_cast<double>(p.spawn_us)), b = scale.x(end);
        const auto [colour, how] = process_end(run, p);
        bars += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>pid {} (parent {}) {}: {}</title></rect>)", a, y,
                           std::max(1.0, b - a), lane_height, colour, p.pid, p.parent, escape(p.command), escape(how));
    }
    return svg + zoomable(bars);
}

int process_lane_count(const harness::RunResult& run) {  // at least one: the "processes" label needs its row
    return static_cast<int>(std::clamp<std::size_t>(run.processes.size(), 1, max_lanes + 1));
}

} // namespace lastcall::reports::html
