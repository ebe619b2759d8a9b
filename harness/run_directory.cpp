#include "run_directory.hpp"

#include "event_log.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <optional>

namespace lastcall::harness {

namespace fs = std::filesystem;

namespace {

constexpr const char* marker = ".lastcall-run";  // what lets lastcall replace a directory

std::string local_time() {
    const auto now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
    return text;
}

bool is_one_component(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

std::ofstream open_for_writing(const fs::path& file) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw RunDirectoryError(fmt::format("cannot write {}", file.string()));
    return out;
}

} // namespace

RunDirectory RunDirectory::create(const fs::path& root, bool exact, const std::string& name, int repeat_index, int repeats) {
    if (!is_one_component(name)) throw RunDirectoryError(fmt::format("scenario name '{}' cannot name a run directory", name));
    const auto suffix = repeats > 1 ? fmt::format("-r{}", repeat_index + 1) : "";
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw RunDirectoryError(fmt::format("cannot create {}: {}", root.string(), ec.message()));
    fs::path path;
    if (exact) {
        path = root / (name + suffix);
        if (fs::exists(path, ec)) {
            if (!fs::exists(path / marker, ec)) {
                throw RunDirectoryError(fmt::format("{} exists and was not made by lastcall; not replacing it", path.string()));
            }
            fs::remove_all(path, ec);
            if (ec) throw RunDirectoryError(fmt::format("cannot replace {}: {}", path.string(), ec.message()));
        }
        fs::create_directory(path, ec);
    } else {
        const auto base = fmt::format("{}-{}{}", name, local_time(), suffix);
        // create_directory reports false when the name is taken: two runs in the same second.
        for (int n = 1; n < 1000; ++n) {
            path = root / (n == 1 ? base : fmt::format("{}-{}", base, n));
            if (fs::create_directory(path, ec) || ec) break;
        }
    }
    if (ec) throw RunDirectoryError(fmt::format("cannot create {}: {}", path.string(), ec.message()));
    std::ofstream(path / marker) << "made by lastcall; replaced by a later run with the same --run-dir\n";
    fs::create_directories(path / "work", ec);
    if (ec) throw RunDirectoryError(fmt::format("cannot create {}: {}", (path / "work").string(), ec.message()));
    return RunDirectory(path);
}

fs::path RunDirectory::target_stdout(int generation) const { return path_ / fmt::format("target-{}.stdout", generation); }
fs::path RunDirectory::target_stderr(int generation) const { return path_ / fmt::format("target-{}.stderr", generation); }
fs::path RunDirectory::shutdown_report(int generation) const { return path_ / fmt::format("shutdown-report-{}.json", generation); }

HistoryExport RunDirectory::write_history(const RecordSource& records, const std::vector<std::string>& names, std::uint64_t ok_budget,
                                          const QuotedRequests& quoted) const {
    auto out = open_for_writing(path_ / "history.jsonl");
    HistoryExport written;
    std::optional<std::unordered_set<std::uint64_t>> keep;  // asked for once the budget is reached
    records([&](const RequestRecord& r) {
        auto line = to_json_line(r, r.workload < names.size() ? names[r.workload] : "?");
        line += '\n';
        if (r.outcome == Outcome::ok) {
            if (written.bytes + line.size() > ok_budget && !keep) keep = quoted ? quoted() : std::unordered_set<std::uint64_t>{};
            if (keep && !keep->contains(r.id)) {
                ++written.ok_left_out;
                return;
            }
        }
        out << line;
        written.bytes += line.size();
        ++written.records;
    });
    out.flush();
    if (!out) throw RunDirectoryError(fmt::format("cannot write {}", (path_ / "history.jsonl").string()));
    return written;
}

void RunDirectory::write_stream_trails(const std::vector<StreamTrail>& trails) const {
    if (trails.empty()) return;
    auto out = open_for_writing(path_ / "streams.jsonl");
    for (const auto& t : trails) {
        out << dump_json({{"request", t.request_id}, {"resume_of", t.resume_of}, {"sent_last_event_id", t.sent_last_event_id},
                          {"first_id", t.first_id}, {"last_id", t.last_id}, {"ids", t.ids}, {"breaks", t.breaks},
                          {"first_break", t.first_break}, {"id_too_long", t.id_too_long}})
            << '\n';
    }
}

void RunDirectory::write_proxy_records(const std::vector<proxy::ProxyRecord>& records) const {
    auto out = open_for_writing(path_ / "proxy.jsonl");
    for (const auto& r : records) out << to_json_line(r) << '\n';
}

void RunDirectory::write_events(const std::vector<nlohmann::json>& events) const {
    auto out = open_for_writing(path_ / "events.jsonl");
    for (const auto& e : events) out << dump_json(e) << '\n';
}

void RunDirectory::write_samples(const std::vector<ProcSample>& samples) const {
    auto out = open_for_writing(path_ / "samples.jsonl");
    for (const auto& s : samples) {
        out << dump_json({{"t_us", s.t_us}, {"fds", s.fds}, {"threads", s.threads}, {"descendants", s.descendants}, {"rss_kib", s.rss_kib},
                          {"disk_waiting", s.disk_waiting}, {"accept_queue", s.accept_queue}})
            << '\n';
    }
}

void RunDirectory::write_json(const std::string& file, const nlohmann::json& value) const {
    open_for_writing(path_ / file) << dump_json(value, 2) << '\n';
}

} // namespace lastcall::harness
