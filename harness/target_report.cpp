#include "target_report.hpp"

#include "target_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <limits>
#include <type_traits>
#include <sys/stat.h>

namespace lastcall::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed reads of optional fields: absent is fine, the wrong type is an error naming the field.
class FieldReader {
public:
    std::string error;

    const json* find(const json& object, const char* key) {
        const auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }
    template <typename T>
    void number(const json& object, const char* key, T& out, const std::string& where) {
        const auto* value = find(object, key);
        if (!value) return;
        if constexpr (std::is_integral_v<T>) {
            const bool fits = value->is_number_integer() && (value->is_number_unsigned() ? value->get<std::uint64_t>() <= std::uint64_t(INT64_MAX) : true);
            if (!fits) return wrong(where + key, "a whole number");
            const auto wide = value->get<std::int64_t>();
            if (wide < std::numeric_limits<T>::min() || wide > std::numeric_limits<T>::max()) return wrong(where + key, "in range");
            out = static_cast<T>(wide);
        } else {
            if (!value->is_number()) return wrong(where + key, "a number");
            out = value->get<T>();
        }
    }
    void string(const json& object, const char* key, std::string& out, const std::string& where) {
        const auto* value = find(object, key);
        if (!value) return;
        if (!value->is_string()) return wrong(where + key, "a string");
        out = value->get<std::string>();
    }
    void wrong(const std::string& field, const char* expected) {
        if (error.empty()) error = fmt::format("{} is not {}", field, expected);
    }
};

} // namespace

const TargetReportPhase* TargetReport::phase(std::string_view name) const {
    for (const auto& p : phases) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::int64_t TargetReport::count(const std::string& name) const {
    const auto it = counts.find(name);
    return it == counts.end() ? 0 : it->second;
}

ParsedTargetReport parse_target_report(std::string_view text) {
    const auto root = parse_target_json(text);  // bounded nesting: nothing a target writes can crash us
    if (root.is_discarded()) return {std::nullopt, fmt::format("not valid JSON (or nested deeper than {})", max_target_json_depth)};
    if (!root.is_object()) return {std::nullopt, "not a JSON object"};
    TargetReport report;
    FieldReader read;
    read.number(root, "signal_at_unix_us", report.signal_at_unix_us, "");
    if (read.find(root, "exit_code")) {
        int code = 0;
        read.number(root, "exit_code", code, "");
        report.exit_code = code;
    }
    if (const auto* phases = read.find(root, "phases")) {
        if (!phases->is_array()) read.wrong("phases", "a list");
        else {
            for (std::size_t i = 0; i < phases->size(); ++i) {
                const auto& p = (*phases)[i];
                const auto where = fmt::format("phases[{}].", i);
                if (!p.is_object()) {
                    read.wrong(fmt::format("phases[{}]", i), "an object");
                    continue;
                }
                TargetReportPhase phase;
                read.string(p, "phase", phase.name, where);
                read.number(p, "start_ms", phase.start_ms, where);
                read.number(p, "end_ms", phase.end_ms, where);
                read.string(p, "outcome", phase.outcome, where);
                read.string(p, "detail", phase.detail, where);
                report.phases.push_back(std::move(phase));
            }
        }
    }
    if (const auto* counts = read.find(root, "counts")) {
        if (!counts->is_object()) read.wrong("counts", "an object");
        else {
            for (const auto& [name, value] : counts->items()) {
                read.number(*counts, name.c_str(), report.counts[name], "counts.");
            }
        }
    }
    if (const auto* tasks = read.find(root, "abandoned_tasks")) {
        if (!tasks->is_array()) read.wrong("abandoned_tasks", "a list");
        else {
            for (const auto& name : *tasks) {
                if (name.is_string()) report.abandoned_tasks.push_back(name.get<std::string>());
                else read.wrong("abandoned_tasks[]", "a string");
            }
        }
    }
    if (const auto* workers = read.find(root, "workers")) {
        if (!workers->is_array()) read.wrong("workers", "a list");
        else {
            report.workers.emplace();
            for (std::size_t i = 0; i < workers->size(); ++i) {
                const auto& w = (*workers)[i];
                const auto where = fmt::format("workers[{}].", i);
                if (!w.is_object()) {
                    read.wrong(fmt::format("workers[{}]", i), "an object");
                    continue;
                }
                TargetReportWorker worker;
                read.string(w, "id", worker.id, where);
                read.number(w, "pid", worker.pid, where);
                read.string(w, "fate", worker.fate, where);
                read.string(w, "ended_while", worker.ended_while, where);
                read.string(w, "exit", worker.exit, where);
                if (read.find(w, "ended_ms")) {
                    double ended = 0;
                    read.number(w, "ended_ms", ended, where);
                    worker.ended_ms = ended;
                }
                report.workers->push_back(std::move(worker));
            }
        }
    }
    if (const auto* stragglers = read.find(root, "stragglers")) {
        if (!stragglers->is_array()) read.wrong("stragglers", "a list");
        else {
            for (const auto& name : *stragglers) {
                if (name.is_string()) report.stragglers.push_back(name.get<std::string>());
                else read.wrong("stragglers[]", "a string");
            }
        }
    }
    if (!read.error.empty()) return {std::nullopt, read.error};
    return {std::move(report), {}};
}

FileStamp FileStamp::of(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return {};
    return FileStamp{true, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                     static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

std::string_view to_string(TargetReportReading::State state) {
    switch (state) {
    case TargetReportReading::State::not_configured: return "not configured";
    case TargetReportReading::State::absent: return "absent";
    case TargetReportReading::State::stale: return "stale";
    case TargetReportReading::State::corrupt: return "corrupt";
    case TargetReportReading::State::ok: return "ok";
    }
    return "absent";
}

TargetReportReading read_target_report(const fs::path& source, const FileStamp& before, std::int64_t spawned_unix_us,
                                       std::int64_t ended_unix_us, const fs::path& copy) {
    using State = TargetReportReading::State;
    TargetReportReading reading;
    reading.source = source;
    const auto now = FileStamp::of(source);
    if (!now.exists) {
        reading.state = State::absent;
        reading.detail = fmt::format("{} was not written", source.string());
        return reading;
    }
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
        reading.state = State::corrupt;
        reading.detail = fmt::format("{} is a directory", source.string());
        return reading;
    }
    constexpr std::uintmax_t limit = 16 << 20;  // a report is a few KiB; refuse to slurp a runaway file
    if (now.size > limit) {
        reading.state = State::corrupt;
        reading.detail = fmt::format("{} is {} bytes, more than a report can be", source.string(), now.size);
        return reading;
    }
    std::ifstream in(source, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    std::ofstream(copy, std::ios::binary) << text;
    reading.copy = copy;
    if (now == before) {
        reading.state = State::stale;
        reading.detail = fmt::format("{} was not rewritten by this generation (left by an earlier run)", source.string());
        return reading;
    }
    auto parsed = parse_target_report(text);
    if (!parsed.report) {
        reading.state = State::corrupt;
        reading.detail = fmt::format("{}: {}", source.string(), parsed.error);
        return reading;
    }
    // The signal it reports must fall inside this generation's life (with a second of slack for clocks).
    const auto signal_at = parsed.report->signal_at_unix_us;
    if (signal_at != 0 && (signal_at < spawned_unix_us - 1'000'000 || signal_at > ended_unix_us + 1'000'000)) {
        reading.state = State::stale;
        reading.detail = fmt::format("{} reports a signal at {} µs (unix), outside this generation's life", source.string(), signal_at);
        return reading;
    }
    reading.state = State::ok;
    reading.report = std::move(parsed.report);
    return reading;
}

} // namespace lastcall::harness
