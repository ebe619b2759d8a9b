#pragma once
// The on-disk form of a RequestRecord: a compact binary record that the load threads append to
// their history files (history_spool.hpp) and that is read back by streaming. LEB128 varints, and
// every time after the intended start as a zigzag delta from it (they are microseconds apart), so a
// typical request takes about 30 bytes instead of the 100+ of the struct. Self-delimiting; a
// truncated or corrupt tail decodes as "no record" rather than as a wrong one.
#include "history.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace lastcall::harness {

// The most bytes one record can take (its fixed fields at their widest plus the longest reply value).
inline constexpr std::size_t max_encoded_record = 144 + reply_value_limit + 8;

// Writes the record at `out`, which has room for max_encoded_record bytes; returns the bytes written.
std::size_t encode_record(const RequestRecord& record, char* out);
// Appends the record to `out`.
void encode_record(const RequestRecord& record, std::string& out);

// Reads one record from the front of `in`: the bytes it took, or 0 when `in` does not start with a
// whole valid record (a truncated tail, or bytes that are not a record).
std::size_t decode_record(std::string_view in, RequestRecord& record);

} // namespace lastcall::harness
