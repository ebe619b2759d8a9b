#include "text_rules.hpp"

#include "scenario_ranges.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::harness {

namespace {

bool is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_visible_ascii(unsigned char c) { return c > 0x20 && c < 0x7f; }

} // namespace

bool is_http_token(std::string_view text) {
    constexpr std::string_view tchar_symbols = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return is_alnum(static_cast<unsigned char>(c)) || tchar_symbols.find(c) != std::string_view::npos;
    });
}

bool is_http_field_value(std::string_view text) {
    const auto allowed = [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == ' ' || u == '\t' || is_visible_ascii(u) || u >= 0x80;  // obs-text: bytes from 0x80
    };
    if (!std::all_of(text.begin(), text.end(), allowed)) return false;
    const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    return text.empty() || (!is_space(text.front()) && !is_space(text.back()));
}

bool is_origin_form(std::string_view text) {
    return !text.empty() && text.front() == '/' &&
           std::all_of(text.begin(), text.end(), [](char c) { return is_visible_ascii(static_cast<unsigned char>(c)); });
}

bool is_safe_name(std::string_view text) {
    return !text.empty() && text.size() <= ranges::max_name_length && text.front() != '.' &&
           std::all_of(text.begin(), text.end(), [](char c) {
               return is_alnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
           });
}

std::string printable(std::string_view text) {
    constexpr std::size_t max_shown = 60;
    std::string out;
    for (const char c : text.substr(0, max_shown)) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c == '\\') out += "\\\\";
        else if (u < 0x20 || u >= 0x7f) out += fmt::format("\\x{:02x}", u);
        else out += c;
    }
    if (text.size() > max_shown) out += "...";
    return out;
}

} // namespace lastcall::harness
