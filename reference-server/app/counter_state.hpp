#pragma once
// The counter's durable encodings and its recovery, apart from any file: the checkpoint payload,
// one journal record per acknowledged increment, and the replay that rebuilds the state from a
// checkpoint plus the journal, refusing anything that does not add up.
#include "lastcall/coordinator/journal.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::server {

struct CounterState {
    std::int64_t value = 0;
    std::uint64_t seq = 0;  // the last journal record this state includes
    bool operator==(const CounterState&) const = default;
};

// "counter V\njournal_seq S\n". Decoding also takes the older "counter V\n" (seq 0). Throws
// std::runtime_error saying what is wrong (the caller names the file). What follows journal_seq
// is refused, unless `rest` takes it (the server's other state: stream positions).
std::string encode_checkpoint(const CounterState& state);
CounterState decode_checkpoint(const std::string& payload, std::string* rest = nullptr);

// A journal record: the increment and the value it produced (16 bytes, little-endian), so that
// replay can check every step and a record never silently means something else.
struct Increment {
    std::int64_t by = 0;
    std::int64_t value = 0;
};
std::string encode_increment(const Increment& increment);
Increment decode_increment(std::string_view payload);  // throws std::runtime_error

// Applies the records after `from.seq`. Throws std::runtime_error naming `journal_file` when a
// record is missing (a gap after the checkpoint), malformed, or does not continue the value.
struct Replay {
    CounterState state;
    std::size_t applied = 0;
};
Replay replay(const CounterState& from, const std::vector<coordinator::Journal::Record>& records,
              const std::filesystem::path& journal_file);

} // namespace lastcall::server
