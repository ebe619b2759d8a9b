#include "json_field.hpp"

#include <charconv>

namespace lastcall::harness {

namespace {

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view text, std::size_t at) {
    while (at < text.size() && json_space(text[at])) ++at;
    return at;
}

// Where the value of `"key":` starts (whitespace skipped), or npos.
std::size_t value_of(std::string_view json, std::string_view key) {
    for (std::size_t at = json.find('"'); at != std::string_view::npos; at = json.find('"', at + 1)) {
        const auto name_end = at + 1 + key.size();
        if (name_end >= json.size() || json.compare(at + 1, key.size(), key) != 0 || json[name_end] != '"') continue;
        // A key is followed by a colon; the same text as a string value is not.
        const auto colon = skip_space(json, name_end + 1);
        if (colon < json.size() && json[colon] == ':') return skip_space(json, colon + 1);
    }
    return std::string_view::npos;
}

} // namespace

std::optional<std::string_view> json_string_field(std::string_view json, std::string_view key) {
    const auto at = value_of(json, key);
    if (at == std::string_view::npos || json[at] != '"') return std::nullopt;
    for (auto end = at + 1; end < json.size(); ++end) {
        if (json[end] == '\\') ++end;  // skip the escaped character, an escaped quote included
        else if (json[end] == '"') return json.substr(at + 1, end - at - 1);
    }
    return std::nullopt;
}

std::optional<std::int64_t> json_int_field(std::string_view json, std::string_view key) {
    const auto at = value_of(json, key);
    if (at == std::string_view::npos) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(json.data() + at, json.data() + json.size(), value);
    if (ec != std::errc{}) return std::nullopt;
    // 12.5 or 1e3 is not an integer; a delimiter must follow.
    if (end != json.data() + json.size() && (*end == '.' || *end == 'e' || *end == 'E')) return std::nullopt;
    return value;
}

} // namespace lastcall::harness
