#include "status_page.hpp"

#include <fmt/format.h>

namespace lastcall::server {

// The journal_* names stay those of the single-process journal; with --workers they count the
// shared database's commits (SharedCounter).
std::string status_json(AppState& app) {
    auto& c = app.coordinator;
    const auto stats = app.counter.stats();
    return fmt::format(
        R"({{"phase":"{}","ready":{},"in_flight":{},"streams":{},"drain_holds":{},"connections":{},)"
        R"("tasks_running":{},"counter":{},"requests_total":{},"jobs_resumed":{},"journal_syncs":{},)"
        R"("journal_records":{},"journal_bytes":{},"faults":"{}"}})",
        coordinator::to_string(c.phase()), c.ready(), c.drain().in_flight(), c.drain().streams(), c.drain().holds(),
        c.connections().size(), c.tasks().running(), app.counter.durable_value(), app.requests_total.load(),
        app.jobs_resumed.load(), stats.commits, stats.records, stats.bytes, app.config.faults.names());
}

// Clean for `promtool check metrics` (tests/integration/metrics_test.cpp runs it): counters end in
// _total, no metric name says its type, times in seconds.
std::string metrics_text(AppState& app) {
    auto& c = app.coordinator;
    std::string text;
    const auto gauge = [&text](std::string_view name, std::string_view help, auto value) {
        text += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
    };
    text += "# HELP lastcall_build_info The lastcall-server that answers, as labels.\n# TYPE lastcall_build_info gauge\n";
    text += fmt::format("lastcall_build_info{{version=\"{}\",faults=\"{}\"}} 1\n", LASTCALL_SERVER_VERSION, app.config.faults.names());
    text += fmt::format("# HELP lastcall_requests_total Requests handled.\n# TYPE lastcall_requests_total counter\n"
                        "lastcall_requests_total {}\n",
                        app.requests_total.load());
    gauge("lastcall_in_flight", "Requests and streams in flight.", c.drain().in_flight());
    gauge("lastcall_connections", "Open connections.", c.connections().size());
    gauge("lastcall_tasks_running", "Background tasks running.", c.tasks().running());
    gauge("lastcall_durable_value", "The acknowledged (durable) value of the counter.", app.counter.durable_value());
    const auto journal = app.counter.stats();
    text += fmt::format("# HELP lastcall_journal_syncs_total Group commits (one fdatasync each).\n"
                        "# TYPE lastcall_journal_syncs_total counter\nlastcall_journal_syncs_total {}\n"
                        "# HELP lastcall_journal_records_total Records made durable.\n"
                        "# TYPE lastcall_journal_records_total counter\nlastcall_journal_records_total {}\n",
                        journal.commits, journal.records);
    gauge("lastcall_journal_bytes", "Size of the counter journal.", journal.bytes);
    gauge("lastcall_ready", "1 while the server accepts traffic.", c.ready() ? 1 : 0);
    // A state set (OpenMetrics' StateSet, as a gauge in the text format): one series per phase, 1 for
    // the current one, so a graph of any phase is a line that steps, and absent never means 0.
    text += "# HELP lastcall_phase The shutdown phase: 1 for the current one, 0 for the others.\n# TYPE lastcall_phase gauge\n";
    const auto now = c.phase();
    for (auto p = coordinator::Phase::running; p <= coordinator::Phase::exited; p = static_cast<coordinator::Phase>(static_cast<int>(p) + 1)) {
        text += fmt::format("lastcall_phase{{phase=\"{}\"}} {}\n", coordinator::to_string(p), p == now ? 1 : 0);
    }
    text += app.metrics.exposition();
    return text;
}

} // namespace lastcall::server
