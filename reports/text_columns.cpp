#include "text_columns.hpp"

#include <algorithm>

namespace lastcall::reports {

std::vector<std::string> wrap_cell(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    while (width > 0 && text.size() > width) {
        auto cut = text.rfind(' ', width);
        if (cut == std::string_view::npos || cut == 0) cut = width;
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
            if (padded && i < widths.size()) part.resize(std::max(part.size(), widths[i]), ' ');
            text += (i == 0 ? "" : " ") + part;
        }
        if (line == 0 && !mark.empty()) text += " " + std::string(mark);
        text.erase(text.find_last_not_of(' ') + 1);
        out += text + "\n";
    }
    return out;
}

} // namespace lastcall::reports
