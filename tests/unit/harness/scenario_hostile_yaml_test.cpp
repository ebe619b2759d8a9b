// Issue 7, item 13: nothing in a scenario file crashes or hangs the loader. Seen: a mapping key that
// is a list (`? [a, b]`) aborted lastcall (exit 134) and with it a whole `lastcall run dir/`.
#include "scenario_error_of.hpp"
#include "yaml_document.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace lastcall::harness {
namespace {

using testing::error_of;
using testing::minimal_head;

TEST(ScenarioHostileYaml, KeysMustBeNames) {
    EXPECT_EQ(error_of(minimal_head + "? [a, b]\n: 1\n"), "3:3: a key must be a name, not a list");
    EXPECT_EQ(error_of(minimal_head + "[a, b]: 1\n"), "3:1: a key must be a name, not a list");
    EXPECT_EQ(error_of(minimal_head + "{a: 1}: 1\n"), "3:1: a key must be a name, not a mapping");
    EXPECT_EQ(error_of(minimal_head + ": 1\n"), "3:1: a key must be a name, not empty");
    // Deeper, where the readers iterate keys themselves.
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: a\n    ? [x]\n    : 1\n"), "5:7: a key must be a name, not a list");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], env: {[A]: 1}}\n"), "2:32: a key must be a name, not a list");
    EXPECT_EQ(error_of(minimal_head + "expect: {? {a: 1} : 1}\n"), "3:12: a key must be a name, not a mapping");
}

TEST(ScenarioHostileYaml, DuplicateKeysAreErrorsAtTheSecond) {
    // yaml-cpp keeps both and a lookup finds the first: the second was silently ignored.
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv]}\nname: y\n"), "3:1: duplicate key 'name' (each key may appear once in a mapping)");
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: a\n    connections: 1\n    connections: 2\n"),
              "6:5: duplicate key 'connections' (each key may appear once in a mapping)");
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: a\n    request: {headers: {X-A: 1, X-A: 2}}\n"),
              "5:33: duplicate key 'X-A' (each key may appear once in a mapping)");
}

TEST(ScenarioHostileYaml, ValuesOfTheWrongShape) {
    EXPECT_EQ(error_of("name: [x]\ntarget: {command: [srv]}\n"), "1:7: name must be a string");
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: a\n    request: [x]\n"), "5:14: request must be a mapping");
    EXPECT_EQ(error_of(minimal_head + "workloads: {a: 1}\n"), "3:12: workloads must be a list");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    signal: [TERM]\n"), "5:13: unknown signal '?' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to 64)");
    EXPECT_EQ(error_of(minimal_head + "timeline:\n  - at: 1s\n    stop_load: {a: 1}\n"), "5:16: workload name must be a string");
    EXPECT_EQ(error_of(minimal_head + "expect: {acked_writes: [x]}\n"), "3:24: acked_writes must be a mapping");
}

TEST(ScenarioHostileYaml, DeepNestingIsRefusedWithAPosition) {
    const std::string deep_flow(100'000, '[');
    // yaml-cpp stops at its own depth guard, with a mark at the end of what it scanned: the
    // position is where the flow brackets pass our bound instead.
    EXPECT_EQ(error_of(minimal_head + "description: " + deep_flow + "\n"), "3:46: nesting deeper than 32 levels");
    std::string block = minimal_head + "description:\n";
    for (int i = 0; i < 300; ++i) block += std::string(static_cast<std::size_t>(i) * 2 + 2, ' ') + "-\n";
    EXPECT_EQ(error_of(block), "35:65: nesting deeper than 32 levels (or an alias inside its own anchor)");
    std::string nested = "x";
    for (int i = 0; i < 40; ++i) nested = "[" + nested + "]";  // below yaml-cpp's own guard, above ours
    EXPECT_EQ(error_of(minimal_head + "description: " + nested + "\n"), "3:45: nesting deeper than 32 levels (or an alias inside its own anchor)");
}

TEST(ScenarioHostileYaml, AliasesAreBoundedAndMayNotContainThemselves) {
    // Nine levels of ten aliases: 10^9 values once expanded; it must be refused at once, not walked.
    std::string laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i <= 9; ++i) {
        laughs += fmt::format("a{}: &a{} [", i, i);
        for (int k = 0; k < 10; ++k) laughs += fmt::format("*a{}{}", i - 1, k < 9 ? ", " : "]\n");
    }
    EXPECT_EQ(error_of(laughs), "1:55: the document expands to more than 100000 values (aliases repeat what their anchor holds)");
    EXPECT_EQ(error_of(minimal_head + "description: &loop [*loop]\n"), "3:14: nesting deeper than 32 levels (or an alias inside its own anchor)");
    // Aliases used as intended still work.
    const auto s = load_scenario_text(minimal_head + "workloads:\n  - {name: a, request: &r {path: /slow}}\n  - {name: b, request: *r}\n", "s.yaml");
    EXPECT_EQ(s.workloads[1].request.path, "/slow");
}

TEST(ScenarioHostileYaml, TextThatIsNotCleanUtf8) {
    EXPECT_EQ(error_of(minimal_head + "description: a" + std::string(1, '\0') + "b\n"),
              "3:15: control character U+0000 in the file (only tabs and line breaks are allowed; write \\t or \\n in double quotes where a value needs one)");
    EXPECT_EQ(error_of(minimal_head + "description: \x01\n"),
              "3:14: control character U+0001 in the file (only tabs and line breaks are allowed; write \\t or \\n in double quotes where a value needs one)");
    EXPECT_EQ(error_of(minimal_head + "description: caf\xc3\xa9 \xc2\x85\n"),
              "3:20: control character U+0085 in the file (only tabs and line breaks are allowed; write \\t or \\n in double quotes where a value needs one)");
    EXPECT_EQ(error_of(minimal_head + "description: a\rb\n"), "3:15: a carriage return (CR) that does not end a line: use LF or CR LF line breaks");
    EXPECT_EQ(error_of(minimal_head + "description: \xff\n"), "3:14: invalid UTF-8 (byte 0xff): a scenario file is UTF-8 text");
    EXPECT_EQ(error_of(minimal_head + "description: \xc0\xaf\n"), "3:14: invalid UTF-8 (byte 0xc0): a scenario file is UTF-8 text");
    EXPECT_EQ(error_of(minimal_head + "description: \xed\xa0\x80\n"), "3:14: invalid UTF-8 (byte 0xed): a scenario file is UTF-8 text");
    EXPECT_EQ(error_of(minimal_head + "description: \xe2\x82"), "3:14: invalid UTF-8 (byte 0xe2): a scenario file is UTF-8 text");
    EXPECT_EQ(error_of("\xef\xbb\xbfname: x\r\ntarget: {command: [srv]}\r\ndescription: caf\xc3\xa9 \xe2\x98\x95\tok\r\n"), "no error");
}

// Found by the fuzz test: yaml-cpp reads an escape past the end of the text and marks a column
// beyond it, and names its end-of-input sentinel (byte 0x04) as the character it found.
TEST(ScenarioHostileYaml, SyntaxErrorsAtTheEndStayInTheText) {
    EXPECT_EQ(error_of("name: \"\\U0010"), "1:14: YAML syntax: bad character found while scanning hex number");
    EXPECT_EQ(error_of("name: \"\\U0010\n"), "2:1: YAML syntax: bad character found while scanning hex number");
    EXPECT_EQ(error_of("name: \"a\\"), "1:10: YAML syntax: unknown escape character: end of file");
}

TEST(ScenarioHostileYaml, OneDocumentNoMoreNoLess) {
    EXPECT_EQ(error_of(""), "1:1: the file is empty: a scenario is a mapping with name, target and workloads");
    EXPECT_EQ(error_of("# only a comment\n"), "1:1: the file is empty: a scenario is a mapping with name, target and workloads");
    EXPECT_EQ(error_of(minimal_head + "---\nname: y\n"), "3:1: a scenario file holds one YAML document; a second one starts here");
    EXPECT_EQ(error_of(minimal_head + "---\n"), "no error");  // an empty trailing document loses nothing
    EXPECT_EQ(error_of(minimal_head + "--- ~\n---\n"), "no error");
    // Found by the fuzz test: yaml-cpp's LoadAll never returned on a ',' outside brackets (one more
    // empty document per call, 10 GB in a minute), and Load dropped what followed it silently.
    EXPECT_EQ(error_of(",\n"), "1:1: YAML syntax: unexpected ',' (a ',' belongs inside [ ] or { })");
    EXPECT_EQ(error_of(minimal_head + ",\n"), "3:1: YAML syntax: end of map not found");
    EXPECT_EQ(error_of(minimal_head + "---\n,\n"), "4:1: YAML syntax: unexpected ',' (a ',' belongs inside [ ] or { })");
    EXPECT_EQ(error_of("- a\n- b\n,\n"), "3:1: YAML syntax: unexpected ',' (a ',' belongs inside [ ] or { })");
    EXPECT_EQ(error_of("~\n"), "1:1: a scenario must be a mapping with name, target and workloads");
}

TEST(ScenarioHostileYaml, HugeFilesAreRefusedBeforeParsing) {
    const std::string huge = minimal_head + "description: " + std::string(yaml_limits::max_file_bytes, 'a') + "\n";
    EXPECT_EQ(error_of(huge), "1:1: the file is over 1048576 bytes, the most a scenario file may be");
}

} // namespace
} // namespace lastcall::harness
