#pragma once
// Reads one top-level-looking field out of a small JSON text a target sent (a stream's end event,
// a job's 202 body, a counter read back), without a JSON library and without exceptions: the
// text may be cut, malformed or hostile. Whitespace is allowed where JSON allows it
// (`"reason" : "complete"`). The first occurrence of the key wins; nesting is not tracked, so
// keep keys distinctive.
#include <cstdint>
#include <optional>
#include <string_view>

namespace lastcall::harness {

// The raw contents of a string value (escape sequences left as they are); nullopt when the key is
// missing, its value is not a string, or the string is unterminated.
std::optional<std::string_view> json_string_field(std::string_view json, std::string_view key);

// An integer value (from_chars: no exceptions, range-checked); nullopt when missing, not an
// integer, or out of range for int64.
std::optional<std::int64_t> json_int_field(std::string_view json, std::string_view key);

} // namespace lastcall::harness
