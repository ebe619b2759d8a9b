// The console: a table of checks per run and the suite's summary (colour on a TTY).
#include "reports.hpp"
#include "text_columns.hpp"

#include <fmt/format.h>

#include <fstream>

namespace lastcall::reports {

using harness::CheckStatus;

namespace {

std::string paint(std::string_view text, std::string_view colour, bool tty) {
    return tty ? fmt::format("\033[{}m{}\033[0m", colour, text) : std::string(text);
}

std::string status_word(CheckStatus s, bool tty) {
    switch (s) {
    case CheckStatus::pass: return paint("PASS", "32", tty);
    case CheckStatus::fail: return paint("FAIL", "1;31", tty);
    case CheckStatus::skip: return paint("skip", "2", tty);
    }
    return "";
}

// The table's columns (after "     result "): wide enough for every check's name and most bounds.
constexpr std::size_t check_width = 28, bound_width = 44, measured_width = 44;

std::string run_title(const RunVerdict& v) {
    return v.scenario->repeat > 1 ? fmt::format("{} #{}", v.scenario->name, v.repeat_index + 1) : v.scenario->name;
}

} // namespace

std::string console_report(const RunVerdict& v, bool tty) {
    if (!v.error().empty()) return fmt::format("   {} {}: {}\n", paint("ERROR", "1;31", tty), run_title(v), v.error());
    // Not made (target.pid1 without a PID namespace): nothing was judged, so it neither passed nor failed.
    if (!v.run.skipped.empty()) return fmt::format("   {} {}: {}\n", paint("SKIP", "1;33", tty), run_title(v), v.run.skipped);
    std::string out = fmt::format("   {} {}\n", v.passed() ? paint("PASS", "1;32", tty) : paint("FAIL", "1;31", tty), run_title(v));
    if (!v.run.ended_by_lastcall.empty()) out += fmt::format("     ended: {}\n", v.run.ended_by_lastcall);
    out += paint(fmt::format("     {:<6} {:<{}} {:<{}} {}", "result", "check", check_width, "bound", bound_width, "measured"), "2", tty) + "\n";
    std::string skipped;  // one line for all of them: what did not apply to this run is not news
    for (const auto& c : v.checks) {
        if (c.status == CheckStatus::skip) {
            skipped += (skipped.empty() ? "" : ", ") + c.name;
            continue;
        }
        // A check without a bound measures and cannot fail: `info`, so PASS keeps its meaning.
        const bool info = c.bound == harness::measured_only_bound;
        const auto word = info ? paint("info", "2", tty) : status_word(c.status, tty);
        // A long bound or measurement wraps inside its column: the columns stay aligned.
        out += table_row({c.name, info ? "-" : c.bound, c.measured}, {check_width, bound_width, measured_width}, "     " + word + "   ",
                         std::string(12, ' '));
        if (c.status == CheckStatus::fail) {
            out += fmt::format("            {}\n", c.message);
            for (const auto& e : c.evidence) out += fmt::format("            {}\n", paint(e, "2", tty));
        }
    }
    if (!skipped.empty()) out += paint(fmt::format("     skipped: {} (not applicable)", skipped), "2", tty) + "\n";
    return out;
}

std::string console_summary(const std::vector<RunVerdict>& verdicts, bool tty, bool errors_said_above) {
    std::size_t failed = 0, errors = 0, skipped = 0;
    std::string names;
    for (const auto& v : verdicts) {
        if (!v.run.skipped.empty()) {
            ++skipped;
            names += fmt::format("   {} {}: {}\n", paint("SKIP", "1;33", tty), run_title(v), v.run.skipped);
            continue;
        }
        if (v.passed()) continue;
        if (!v.error().empty()) {
            ++errors;
            // Said once: in the run's block above, else here in full (--quiet prints no block).
            names += fmt::format("   {} {}: {}\n", paint("ERROR", "1;31", tty), run_title(v), errors_said_above ? "could not run (why is above)" : v.error());
            continue;
        }
        ++failed;
        std::string checks;
        for (const auto& c : v.checks) {
            if (c.status == CheckStatus::fail) checks += (checks.empty() ? "" : ", ") + c.name;
        }
        names += fmt::format("   {} {}: {}\n", paint("FAIL", "1;31", tty), run_title(v), checks);
        // What ended the run is part of why it failed: `exit` failing at max_duration is lastcall's kill.
        if (!v.run.ended_by_lastcall.empty()) names += fmt::format("     ended: {}\n", v.run.ended_by_lastcall);
    }
    auto headline = fmt::format("{} {}: {} passed, {} failed", verdicts.size(), verdicts.size() == 1 ? "run" : "runs",
                                verdicts.size() - failed - errors - skipped, failed);
    if (errors) headline += fmt::format(", {} could not run", errors);
    if (skipped) headline += fmt::format(", {} skipped", skipped);
    return fmt::format("{}\n{}", failed || errors ? paint(headline, "1;31", tty) : paint(headline, "1;32", tty), names);
}

void write_run_reports(const RunVerdict& v) {
    if (v.run.run_dir.empty()) return;  // the run never got a directory
    std::ofstream(v.run.run_dir / "report.json") << json_report(v);
    std::ofstream(v.run.run_dir / "report.html") << html_report(v);
}

} // namespace lastcall::reports
