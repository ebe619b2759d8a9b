#include "text_columns.hpp"

#include <algorithm>

namespace lastcall::reports {

namespace {

// Widths are in characters as a terminal shows them: UTF-8 code points ("2→3 workers" is 11), so a
// cell with one is padded like any other and never cut inside it.
bool continues(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

std::size_t columns(std::string_view text) {
    std::size_t n = 0;
    for (const char c : text) n += continues(c) ? 0 : 1;
    return n;
}

// The bytes of the first `count` characters of `text`.
std::size_t bytes_of(std::string_view text, std::size_t count) {
    std::size_t at = 0;
    for (std::size_t seen = 0; at < text.size() && seen < count; ++seen) {
        ++at;
        while (at < text.size() && continues(text[at])) ++at;
    }
    return at;
}

} // namespace

std::vector<std::string> wrap_cell(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    while (width > 0 && columns(text) > width) {
        const auto limit = bytes_of(text, width);
        auto cut = text.rfind(' ', limit);
        if (cut == std::string_view::npos || cut == 0) cut = limit;
        lines.emplace_back(text.substr(0, cut));
        text.remove_prefix(cut);
        if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    }
    lines.emplace_back(text);
    return lines;
}

std::string table_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths, std::string_view first_prefix,
                      std::string_view next_prefix, std::string_view mark) {
    std::vector<std::vector<std::string>> wrapped;
    std::size_t lines = 1;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        wrapped.push_back(wrap_cell(cells[i], i < widths.size() ? widths[i] : 0));
        lines = std::max(lines, wrapped.back().size());
    }
    std::string out;
    for (std::size_t line = 0; line < lines; ++line) {
        std::string text(line == 0 ? first_prefix : next_prefix);
        for (std::size_t i = 0; i < wrapped.size(); ++i) {
            auto part = line < wrapped[i].size() ? wrapped[i][line] : std::string();
            // The last column is padded only when the mark follows it.
            const bool padded = i + 1 < wrapped.size() || (line == 0 && !mark.empty());
            if (padded && i < widths.size() && columns(part) < widths[i]) part.append(widths[i] - columns(part), ' ');
            text += (i == 0 ? "" : " ") + part;
        }
        if (line == 0 && !mark.empty()) text += " " + std::string(mark);
        text.erase(text.find_last_not_of(' ') + 1);
        out += text + "\n";
    }
    return out;
}

} // namespace lastcall::reports
