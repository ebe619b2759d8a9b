#include "lastcall/coordinator/shutdown_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

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
    json out = {
        {"version", shutdown_report_version},
        {"mode", to_string(report.mode)},
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
        {"abandoned_tasks", report.abandoned_tasks},
        {"resources", resources},
        {"checkpoint",
         {{"outcome", report.checkpoint.outcome},
          {"path", report.checkpoint.path},
          {"bytes", report.checkpoint.bytes},
          {"generation", report.checkpoint.generation},
          {"error", report.checkpoint.error}}},
        {"total_ms", to_ms(report.total)},
        {"exit_code", report.exit_code},
    };
    return out.dump(2) + "\n";
}

void write_report_file(const std::filesystem::path& path, const ShutdownReport& report) {
    const auto text = to_json(report);
    const auto temp = path.string() + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", temp, std::strerror(errno)));
    std::string_view rest(text);
    while (!rest.empty()) {
        const auto n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            throw std::runtime_error(fmt::format("cannot write {}: {}", temp, std::strerror(errno)));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::fsync(fd);
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        throw std::runtime_error(fmt::format("cannot rename {}: {}", temp, std::strerror(errno)));
    }
}

} // namespace lastcall::coordinator
