#include "stream_trail.hpp"

#include "text_rules.hpp"

#include <fmt/format.h>

#include <charconv>

namespace lastcall::harness {

namespace {

struct SplitId {
    std::string_view prefix;
    std::uint64_t seq = 0;
};

// The trailing decimal number of an id; nullopt without one (or one too long for 64 bits).
std::optional<SplitId> split_id(std::string_view id) {
    std::size_t digits = 0;
    while (digits < id.size() && id[id.size() - 1 - digits] >= '0' && id[id.size() - 1 - digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    const auto number = id.substr(id.size() - digits);
    std::uint64_t seq = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), seq);
    if (ec != std::errc{} || ptr != number.data() + number.size()) return std::nullopt;
    return SplitId{id.substr(0, id.size() - digits), seq};
}

} // namespace

bool id_follows(std::string_view before, std::string_view after) { return join_of(before, after) == IdJoin::follows; }

IdJoin join_of(std::string_view before, std::string_view after) {
    const auto a = split_id(before), b = split_id(after);
    if (!a || !b || a->prefix != b->prefix) return IdJoin::unrelated;
    if (b->seq <= a->seq) return IdJoin::repeats;
    return b->seq - a->seq == 1 ? IdJoin::follows : IdJoin::skips;
}

std::string_view to_string(IdJoin join) {
    switch (join) {
    case IdJoin::follows: return "follows";
    case IdJoin::repeats: return "duplicate: events sent again";
    case IdJoin::skips: return "gap: events skipped";
    case IdJoin::unrelated: return "not the same stream: started anew, or ids without a sequence number";
    }
    return "unrelated";
}

void EventIdTrail::on_event(const SseEvent& event) {
    next_.on_event(event);
    if (!trail_) return;
    auto& trail = *trail_;
    const auto id = event.last_event_id;
    // WHATWG: the last event id persists across events, so one equal to the previous is an event
    // without an id of its own (the reference server's end event); only a change is a new id.
    if (id == previous_) return;
    if (id.size() > max_event_id) {
        trail.id_too_long = true;
        previous_.clear();
        trail.last_id.clear();
        return;
    }
    if (trail.ids != UINT32_MAX) ++trail.ids;
    if (trail.first_id.empty() && trail.ids == 1) {
        trail.first_id = std::string(id);
    } else if (!id_follows(previous_, id)) {
        if (trail.breaks++ == 0) trail.first_break = fmt::format("{} after {}", printable(id), printable(previous_));
    }
    previous_ = std::string(id);
    trail.last_id = previous_;
}

} // namespace lastcall::harness
