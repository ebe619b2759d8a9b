#pragma once
// Where each unfinished stream stands, so that a client reconnecting with `Last-Event-ID` gets the
// rest instead of a regenerated stream (the LLM case: keep what was generated). A stream's events
// are deterministic (event n of stream S is always `id: S-n`, `{"seq":n}`), so the position is all
// there is to keep: how many events were sent, of how many, at what interval.
//
// The table lives in memory while the server runs and goes into the checkpoint as extra lines after
// the counter's (`stream ID SENT TOTAL INTERVAL_MS\n`), so it is written with the checkpoint's care
// (temp file, fsync, `.prev`, checksum, directory fsync) and a corrupt one refuses the start like
// any corrupt checkpoint, never replaced by an empty table.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::server {

struct StreamPosition {
    std::uint64_t sent = 0;         // events 0 .. sent-1 went out
    std::uint64_t total = 0;        // the stream's length (its `chunks`)
    std::uint64_t interval_ms = 0;
    bool operator==(const StreamPosition&) const = default;
};

// `S-n` as the stream sends it; nullopt for anything else (no '-', a number that is not one).
struct EventId {
    std::string stream;
    std::uint64_t seq = 0;
};
std::optional<EventId> parse_event_id(std::string_view text);
std::string format_event_id(std::string_view stream, std::uint64_t seq);

class StreamPositions {
public:
    // Beyond this many unfinished streams the oldest is forgotten (logged): a table that only grows
    // would make every checkpoint bigger forever.
    static constexpr std::size_t max_entries = 4096;

    std::optional<StreamPosition> find(const std::string& stream) const;
    // A stream ended before its last event (shutdown, or the client went away).
    void keep(const std::string& stream, const StreamPosition& position);
    // A stream sent its last event: nothing is left to resume.
    void finished(const std::string& stream);
    std::size_t size() const;

    // The checkpoint's extra lines; decode throws std::runtime_error naming the bad line.
    std::string encode() const;
    static std::map<std::string, StreamPosition> decode(std::string_view lines);
    void restore(std::map<std::string, StreamPosition> positions);

private:
    struct Entry {
        StreamPosition position;
        std::uint64_t order = 0;  // when it was last kept, to forget the oldest
    };
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    std::uint64_t next_order_ = 0;
};

} // namespace lastcall::server
