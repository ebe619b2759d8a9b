#pragma once
// JSON a target sent (a job's reply, a read-back, a poll), parsed without exceptions and within a
// nesting bound: nlohmann's dump() and comparisons recurse, so a reply nested a million deep must
// be refused before it is parsed, not crash lastcall afterwards.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace lastcall::harness {

inline constexpr int max_target_json_depth = 64;

// A discarded value (is_discarded()) when the text is not JSON or nests deeper than the bound.
nlohmann::json parse_target_json(std::string_view text);

// The value at `pointer` (RFC 6901), or nullptr; never throws.
const nlohmann::json* json_at(const nlohmann::json& doc, const nlohmann::json::json_pointer& pointer);

// Compact JSON text; invalid UTF-8 replaced rather than thrown.
std::string json_text(const nlohmann::json& value);

} // namespace lastcall::harness
