#pragma once
// The event ids a stream carried, for judging a resumed stream (`stream: {resume: true}`): its first
// and last id, and whether each id followed the one before. What "follows" means is the only
// assumption lastcall makes about a target's ids, and it is stated here once: an id ends in a
// decimal sequence number, and the next event's id is the same text with that number plus one
// (`7`, `8`; `S-41`, `S-42`; `msg_9`, `msg_10`). Ids are the target's text: kept bounded, never
// parsed with anything that throws.
#include "sse_parser.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::harness {

// The longest id lastcall keeps and sends back as Last-Event-ID; a longer one cannot be resumed.
inline constexpr std::size_t max_event_id = 1024;

// `after` continues `before`: same prefix, sequence number one more. False when either has no
// trailing number.
bool id_follows(std::string_view before, std::string_view after);

// How a resumed stream's first id stands to the last id before it.
enum class IdJoin {
    follows,    // the next id: no gap, no duplicate
    repeats,    // same prefix, a number not above the one before: events sent again
    skips,      // same prefix, a number more than one above: events lost
    unrelated,  // another prefix, or no number: a different stream (regenerated?) or ids lastcall cannot order
};
IdJoin join_of(std::string_view before, std::string_view after);
std::string_view to_string(IdJoin join);

// What one stream response carried, by event id. Filled as the events arrive.
struct StreamTrail {
    std::uint64_t request_id = 0;
    std::uint64_t resume_of = 0;     // the request whose stream this one resumes (it sent Last-Event-ID)
    std::string sent_last_event_id;  // what it sent as Last-Event-ID, when it resumed
    std::string first_id;            // of the first event that carried an id
    std::string last_id;             // the client's last event id when the stream ended (WHATWG: ids persist)
    std::uint32_t ids = 0;           // events that carried an id of their own
    std::uint32_t breaks = 0;        // ids that did not follow the one before
    std::string first_break;         // "S-7 after S-5"
    bool id_too_long = false;        // an id longer than max_event_id: not resumable
};

// Tees the tokenizer's events: passes each on to the end convention, and notes its id in `trail`
// (none: it only passes them on).
class EventIdTrail final : public SseEventSink {
public:
    EventIdTrail(SseEventSink& next, StreamTrail* trail) : next_(next), trail_(trail) {}
    void on_event(const SseEvent& event) override;

private:
    SseEventSink& next_;
    StreamTrail* trail_;
    std::string previous_;  // the last id seen on an event, to tell an event that set a new one
};

} // namespace lastcall::harness
