// Issue 7, item 12: a scenario name is one safe path component (it names a directory lastcall
// removes first), and what goes onto the wire verbatim holds no CR, LF or other control character.
#include "scenario_error_of.hpp"
#include "text_rules.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using testing::error_of;
using testing::minimal_head;

const std::string name_rule = "must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'";

TEST(ScenarioTextRules, ScenarioNameIsOneSafePathComponent) {
    const auto name = [](const std::string& value) { return error_of("name: " + value + "\ntarget: {command: [srv]}\n"); };
    // Seen: name: ../outside put the run directory outside --run-dir, and removed it first.
    EXPECT_EQ(name("../outside"), "1:7: name '../outside' " + name_rule);
    EXPECT_EQ(name("'..'"), "1:7: name '..' " + name_rule);
    EXPECT_EQ(name("."), "1:7: name '.' " + name_rule);
    EXPECT_EQ(name(".hidden"), "1:7: name '.hidden' " + name_rule);
    EXPECT_EQ(name("a/b"), "1:7: name 'a/b' " + name_rule);
    EXPECT_EQ(name("/etc"), "1:7: name '/etc' " + name_rule);
    EXPECT_EQ(name("'two words'"), "1:7: name 'two words' " + name_rule);
    EXPECT_EQ(name("\"a\\nb\""), "1:7: name 'a\\nb' " + name_rule);
    EXPECT_EQ(name("''"), "1:7: name '' " + name_rule);
    EXPECT_EQ(name("caf\xc3\xa9"), "1:7: name 'caf\\xc3\\xa9' " + name_rule);
    EXPECT_EQ(name(std::string(65, 'a')), "1:7: name '" + std::string(60, 'a') + "...' " + name_rule);
    EXPECT_EQ(name(std::string(64, 'a')), "no error");
    EXPECT_EQ(name("slow-requests_2.v1"), "no error");
}

TEST(ScenarioTextRules, WorkloadNamesFollowTheSameRuleAndAllIsTaken) {
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: 'a b'\n"), "4:11: workload name 'a b' " + name_rule);
    EXPECT_EQ(error_of(minimal_head + "workloads:\n  - name: all\n"),
              "4:11: workload name 'all' is taken (stop_load: all stops every workload)");
}

TEST(ScenarioTextRules, MethodIsAnHttpToken) {
    const std::string message = "request.method must be an HTTP token like GET or POST (letters, digits and !#$%&'*+-.^_`|~)";
    const auto method = [](const std::string& value) {
        return error_of(minimal_head + "workloads:\n  - name: a\n    request: {method: " + value + "}\n");
    };
    EXPECT_EQ(method("'GE T'"), "5:23: " + message);
    EXPECT_EQ(method("\"GET\\r\\nX: 1\""), "5:23: " + message);
    EXPECT_EQ(method("''"), "5:23: " + message);
    EXPECT_EQ(method("\"G(ET)\""), "5:23: " + message);
    EXPECT_EQ(method("\"GET\\0\""), "5:23: request.method must not contain a NUL character");
    EXPECT_EQ(method("PURGE"), "no error");
}

TEST(ScenarioTextRules, PathHasNoSpacesOrControlCharacters) {
    const std::string message = "request.path must start with / and hold no spaces or control characters (percent-encode them, like %20)";
    const auto path = [](const std::string& value) {
        return error_of(minimal_head + "workloads:\n  - name: a\n    request: {path: " + value + "}\n");
    };
    EXPECT_EQ(path("\"/a\\r\\nHost: evil\""), "5:21: " + message);  // CR LF: a second header on the wire
    EXPECT_EQ(path("'/a b'"), "5:21: " + message);
    EXPECT_EQ(path("\"/a\\tb\""), "5:21: " + message);
    EXPECT_EQ(path("\"/caf\xc3\xa9\""), "5:21: " + message);
    EXPECT_EQ(path("nope"), "5:21: " + message);
    EXPECT_EQ(path("'/slow?ms=10&x=%20'"), "no error");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], ready: {http: '/re ady'}}\n"),
              "2:40: target.ready.http must start with / and hold no spaces or control characters (percent-encode them, like %20)");
}

TEST(ScenarioTextRules, HeaderNamesAreTokensAndValuesHoldNoControlCharacters) {
    const auto headers = [](const std::string& value) {
        return error_of(minimal_head + "workloads:\n  - name: a\n    request:\n      headers: " + value + "\n");
    };
    const std::string name_message = "is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~)";
    EXPECT_EQ(headers("{'X Bad': 1}"), "6:17: header name 'X Bad' " + name_message);
    EXPECT_EQ(headers("{'X:Y': 1}"), "6:17: header name 'X:Y' " + name_message);
    EXPECT_EQ(headers("{'': 1}"), "6:17: header name '' " + name_message);
    const std::string value_message = "must not contain CR, LF or other control characters, nor start or end with a space";
    EXPECT_EQ(headers("{X-A: \"1\\r\\nX-Injected: 1\"}"), "6:22: header X-A " + value_message);
    EXPECT_EQ(headers("{X-A: \"1\\n\"}"), "6:22: header X-A " + value_message);
    EXPECT_EQ(headers("{X-A: \"\\x7f\"}"), "6:22: header X-A " + value_message);
    EXPECT_EQ(headers("{X-A: ' 1'}"), "6:22: header X-A " + value_message);
    EXPECT_EQ(headers("{X-A: 'a b\tc', X-B: '', X-C: \"caf\xc3\xa9\"}"), "no error");
}

TEST(ScenarioTextRules, TargetStringsThatReachExec) {
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], env: {'A=B': 1}}\n"), "2:32: target.env names must not be empty or contain '='");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [\"s\\0rv\"]}\n"), "2:20: target.command must not contain a NUL character");
    EXPECT_EQ(error_of("name: x\ntarget: {command: [srv], host: 'local host'}\n"),
              "2:32: target.host must be a host name or address, without spaces or control characters");
}

TEST(TextRules, Predicates) {
    EXPECT_TRUE(is_http_token("X-Custom_1!#$%&'*+.^`|~"));
    EXPECT_FALSE(is_http_token("a\"b"));
    EXPECT_FALSE(is_http_token("a,b"));
    EXPECT_TRUE(is_http_field_value(""));
    EXPECT_FALSE(is_http_field_value(std::string("a\0b", 3)));
    EXPECT_FALSE(is_http_field_value("a\t"));
    EXPECT_TRUE(is_origin_form("/"));
    EXPECT_FALSE(is_origin_form("/\x7f"));
    EXPECT_FALSE(is_safe_name(".."));
    EXPECT_EQ(printable("a\r\n\t\\\x01\xff"), "a\\r\\n\\t\\\\\\x01\\xff");
}

} // namespace
} // namespace lastcall::harness
