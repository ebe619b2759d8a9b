#include "lastcall/coordinator/shutdown_report.hpp"

#include "posix_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>

namespace lastcall::coordinator {

namespace {

double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::int64_t unix_us(WallTime t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string signal_name(int signal) {
    if (signal == 0) return "";
    const char* abbrev = sigabbrev_np(signal);
    return abbrev ? fmt::format("SIG{}", abbrev) : std::to_string(signal);
}

} // namespace

std::string to_json(const ShutdownReport& report) {
    using nlohmann::json;
    json phases = json::array();
    for (const auto& p : report.phases) {
        phases.push_back({{"phase", to_string(p.phase)},
                          {"start_ms", to_ms(p.start)},
                          {"end_ms", to_ms(p.end)},
                          {"outcome", to_string(p.outcome)},
                          {"detail", p.detail}});
    }
    json resources = json::array();
    for (const auto& r : report.resources) {
        resources.push_back({{"name", r.name}, {"outcome", r.outcome}, {"took_ms", to_ms(r.took)}, {"error", r.error}});
    }
    const auto& c = report.counts;
    const auto& n = report.connections;
    json out = {
        {"version", shutdown_report_version},
        {"mode", to_string(report.mode)},
        {"intent", to_string(report.intent)},
        {"escalated", report.escalated},
        {"signal", report.signal},
        {"signal_name", signal_name(report.signal)},
        {"signal_at_unix_us", unix_us(report.signal_at)},
        {"phases", phases},
        {"counts",
         {{"in_flight_at_signal", c.in_flight_at_signal},
          {"completed_during_drain", c.completed_during_drain},
          {"rejected_during_drain", c.rejected_during_drain},
          {"cut_at_drain_deadline", c.cut_at_drain_deadline},
          {"streams_ended_by_shutdown", c.streams_ended_by_shutdown},
          {"tasks_completed", c.tasks_completed},
          {"tasks_cancelled", c.tasks_cancelled},
          {"tasks_abandoned", c.tasks_abandoned}}},
        {"connections",
         {{"accepted", n.accepted},
          {"open_at_signal", n.open_at_signal},
          {"accepted_during_drain", n.accepted_during_drain},
          {"closed_after_linger", n.closed_after_linger},
          {"closed_at_drain_end", n.closed_at_drain_end},
          {"never_served", n.never_served},
          {"reset_request_unread", n.reset_request_unread},
          {"reset_in_backlog", n.reset_in_backlog},
          {"accept_failures", n.accept_failures},
          {"accept_paused_ms", to_ms(n.accept_paused)}}},
        {"abandoned_tasks", report.abandoned_tasks},
        {"resources", resources},
        {"checkpoint",
         {{"outcome", report.checkpoint.outcome},
          {"path", report.checkpoint.path},
          {"bytes", report.checkpoint.bytes},
          {"generation", report.checkpoint.generation},
          {"error", report.checkpoint.error},
          {"snapshot_ms", to_ms(report.checkpoint.snapshot_took)},
          {"write_ms", to_ms(report.checkpoint.write_took)},
          {"fsync_ms", to_ms(report.checkpoint.fsync_took)},
          {"after_write_ms", to_ms(report.checkpoint.after_write_took)}}},
        {"durability_error", report.durability_error},
        {"total_ms", to_ms(report.total)},
        {"exit_code", report.exit_code},
    };
    return out.dump(2) + "\n";
}

void write_report_file(const std::filesystem::path& path, const ShutdownReport& report) {
    write_report_file(path, to_json(report));
}

void write_report_file(const std::filesystem::path& path, std::string_view json_text) {
    // Atomic, not fsynced. The report is read after the process has exited (the harness, a prefork
    // master folding its workers'): the page cache serves it whole, and the rename means a reader
    // never sees half of it. Durability would guard only against a power loss right after the
    // exit, which takes the reader with it, and nothing acknowledged depends on the report (the
    // checkpoint, fsynced with its directory, is what must survive). The file's fsync and the
    // directory's were two of the four fsyncs between the last response and the exit (they took
    // 0.7 ms and 4.1 ms of a 16 ms tail under a busy disk).
    posix::replace_atomically(path, path.string() + ".tmp", json_text);
}

} // namespace lastcall::coordinator
