// Table rows whose columns stay aligned whatever the cells hold: long cells wrap inside their
// column, and a character of several bytes (zero_downtime's "2→3 workers") counts as one.
#include "text_columns.hpp"

#include <gtest/gtest.h>

namespace lastcall::reports {
namespace {

TEST(TextColumns, ALongCellWrapsAtSpacesAndKeepsEveryWord) {
    EXPECT_EQ(wrap_cell("every stream complete or ended", 12), (std::vector<std::string>{"every stream", "complete or", "ended"}));
    EXPECT_EQ(wrap_cell("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"})) << "a word longer than the column is cut";
    EXPECT_EQ(wrap_cell("", 4), (std::vector<std::string>{""}));
}

TEST(TextColumns, AMultiByteCharacterIsOneColumnAndIsNeverCut) {
    EXPECT_EQ(table_row({"2→3", "x"}, {5, 1}, "", ""), "2→3   x\n") << "padded to 5 characters, not 5 bytes";
    EXPECT_EQ(table_row({"ab", "x"}, {5, 1}, "", ""), "ab    x\n");
    EXPECT_EQ(wrap_cell("→→→→→", 2), (std::vector<std::string>{"→→", "→→", "→"}));
}

TEST(TextColumns, TheMarkFollowsTheLastColumnOnTheFirstLine) {
    EXPECT_EQ(table_row({"exit", "pass exit 0", "FAIL killed by SIGTERM"}, {6, 12, 12}, "", "", "changed"),
              "exit   pass exit 0  FAIL killed  changed\n"
              "                    by SIGTERM\n");
}

} // namespace
} // namespace lastcall::reports
