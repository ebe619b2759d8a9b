#include "stream_positions.hpp"

#include "log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace lastcall::server {

namespace {

constexpr std::size_t max_stream_name = 64;

bool valid_stream_name(std::string_view name) {
    return !name.empty() && name.size() <= max_stream_name &&
           std::all_of(name.begin(), name.end(), [](char ch) { return ch > ' ' && ch < 0x7f; });
}

std::optional<std::uint64_t> number(std::string_view digits) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const auto space = line.find(' ');
        out.push_back(line.substr(0, space));
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
    }
    return out;
}

} // namespace

std::optional<EventId> parse_event_id(std::string_view text) {
    const auto dash = text.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto stream = text.substr(0, dash);
    const auto seq = number(text.substr(dash + 1));
    if (!seq || !valid_stream_name(stream)) return std::nullopt;
    return EventId{std::string(stream), *seq};
}

std::string format_event_id(std::string_view stream, std::uint64_t seq) { return fmt::format("{}-{}", stream, seq); }

std::optional<StreamPosition> StreamPositions::find(const std::string& stream) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(stream);
    if (it == entries_.end()) return std::nullopt;
    return it->second.position;
}

void StreamPositions::keep(const std::string& stream, const StreamPosition& position) {
    std::lock_guard lock(mutex_);
    entries_[stream] = Entry{position, next_order_++};
    if (entries_.size() <= max_entries) return;
    const auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                         [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
    log::warn("stream position forgotten: too many unfinished streams").field("stream", oldest->first);
    entries_.erase(oldest);
}

void StreamPositions::finished(const std::string& stream) {
    std::lock_guard lock(mutex_);
    entries_.erase(stream);
}

std::size_t StreamPositions::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

std::string StreamPositions::encode() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [stream, entry] : entries_) {
        const auto& p = entry.position;
        out += fmt::format("stream {} {} {} {}\n", stream, p.sent, p.total, p.interval_ms);
    }
    return out;
}

std::map<std::string, StreamPosition> StreamPositions::decode(std::string_view lines) {
    std::map<std::string, StreamPosition> out;
    for (std::size_t line_number = 1; !lines.empty(); ++line_number) {
        const auto end = lines.find('\n');
        if (end == std::string_view::npos) throw std::runtime_error(fmt::format("stream line {}: not ended by a newline", line_number));
        const auto fields = words(lines.substr(0, end));
        lines.remove_prefix(end + 1);
        const auto bad = [&](std::string_view why) {
            return std::runtime_error(fmt::format("stream line {}: {} (expected 'stream ID SENT TOTAL INTERVAL_MS')", line_number, why));
        };
        if (fields.size() != 5 || fields[0] != "stream") throw bad("not a stream position");
        if (!valid_stream_name(fields[1])) throw bad("bad stream id");
        const auto sent = number(fields[2]), total = number(fields[3]), interval = number(fields[4]);
        if (!sent || !total || !interval) throw bad("bad number");
        if (*sent > *total) throw bad("more events sent than the stream has");
        if (!out.emplace(std::string(fields[1]), StreamPosition{*sent, *total, *interval}).second) throw bad("stream listed twice");
    }
    if (out.size() > max_entries) throw std::runtime_error(fmt::format("{} stream positions, at most {} are kept", out.size(), max_entries));
    return out;
}

void StreamPositions::restore(std::map<std::string, StreamPosition> positions) {
    std::lock_guard lock(mutex_);
    entries_.clear();
    for (auto& [stream, position] : positions) entries_.emplace(stream, Entry{position, next_order_++});
}

} // namespace lastcall::server
