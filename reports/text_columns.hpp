#pragma once
// Plain-text tables whose columns stay aligned whatever a cell holds: a cell longer than its column
// wraps inside it (at spaces where it can) instead of pushing the next column right or being cut.
// Shared by the console table and `lastcall diff`.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall::reports {

// `text` in lines of at most `width` characters (UTF-8 code points), broken at spaces where it can be (a word longer
// than the column is cut inside it); nothing is dropped but the spaces where it breaks.
std::vector<std::string> wrap_cell(std::string_view text, std::size_t width);

// One row of cells, each padded to its width and wrapped inside it, one space between columns; as
// many lines as its tallest cell. The first line starts with `first_prefix` and ends with `mark`
// (after the last column, when not empty); the others start with `next_prefix`. No trailing spaces.
std::string table_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths, std::string_view first_prefix,
                      std::string_view next_prefix, std::string_view mark = {});

} // namespace lastcall::reports
