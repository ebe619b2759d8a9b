// Fields read out of JSON a target sent, tolerantly and without exceptions.
#include "json_field.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

TEST(JsonField, StringsWithTheWhitespaceJsonAllows) {
    EXPECT_EQ(json_string_field(R"({"reason":"complete"})", "reason"), "complete");
    EXPECT_EQ(json_string_field("{ \"reason\" :\n\t\"shutdown\" }", "reason"), "shutdown");
    EXPECT_EQ(json_string_field(R"({"reason":"say \"hi\""})", "reason"), R"(say \"hi\")");  // escapes left as sent
}

TEST(JsonField, AKeyIsAKeyNotTheSameTextAsAValue) {
    EXPECT_EQ(json_string_field(R"({"note":"reason","reason":"complete"})", "reason"), "complete");
    EXPECT_EQ(json_string_field(R"({"my_reason":"x"})", "reason"), std::nullopt);
}

TEST(JsonField, MissingOrMalformedIsNulloptNeverAnException) {
    for (const char* text : {"", "{", R"({"reason":)", R"({"reason":"unterminated)", R"({"reason":7})", "reason", R"("reason")",
                             R"({"reason" "x"})"}) {
        EXPECT_EQ(json_string_field(text, "reason"), std::nullopt) << text;
    }
}

TEST(JsonField, Integers) {
    EXPECT_EQ(json_int_field(R"({"id":42,"steps":3})", "id"), 42);
    EXPECT_EQ(json_int_field(R"({"value" : -7})", "value"), -7);
    EXPECT_EQ(json_int_field(R"({"value":9223372036854775807})", "value"), INT64_MAX);
    EXPECT_EQ(json_int_field(R"({"value":9223372036854775808})", "value"), std::nullopt);  // out of range
    EXPECT_EQ(json_int_field(R"({"value":1.5})", "value"), std::nullopt);
    EXPECT_EQ(json_int_field(R"({"value":1e3})", "value"), std::nullopt);
    EXPECT_EQ(json_int_field(R"({"value":"12"})", "value"), std::nullopt);
    EXPECT_EQ(json_int_field(R"({"value":)", "value"), std::nullopt);
    EXPECT_EQ(json_int_field(R"({"value":12)", "value"), 12);  // cut after the number: the number is whole
}

} // namespace
} // namespace lastcall::harness
