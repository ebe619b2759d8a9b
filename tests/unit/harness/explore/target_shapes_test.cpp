// Target shapes (the explore: section): each is the scenario with the shape laid over it, loads as
// an ordinary scenario, and whatever is wrong in one is reported at its file:line:column.
#include "explore/target_shapes.hpp"
#include "explore_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace lastcall::harness::explore {
namespace {

bool has_workload(const Scenario& s, const std::string& name) {
    return std::any_of(s.workloads.begin(), s.workloads.end(), [&](const Workload& w) { return w.name == name; });
}

bool command_has(const Scenario& s, const std::string& word) {
    return std::find(s.target.command.begin(), s.target.command.end(), word) != s.target.command.end();
}

TEST(TargetShapes, GenericDeclaresItsShapesSimplestFirst) {
    const auto shapes = generic_shapes();
    std::vector<std::string> names;
    for (const auto& s : shapes) names.push_back(s.name);
    EXPECT_EQ(names, (std::vector<std::string>{"", "durable", "resume", "prefork", "prefork-short-grace"}));
    const auto& plain = shapes[0].scenario;
    EXPECT_EQ(plain.workloads.size(), 4u);
    EXPECT_FALSE(command_has(plain, "--workers"));

    const auto& durable = shapes[1];
    EXPECT_EQ(durable.scenario.workloads.size(), 5u);  // the scenario's (the SSE too: stop_load sends no stream to the restart), and the increments
    EXPECT_TRUE(has_workload(durable.scenario, "increments"));
    EXPECT_EQ(durable.own_workloads, std::vector<std::string>{"increments"});
    ASSERT_TRUE(durable.scenario.expect.acked_writes);
    EXPECT_EQ(durable.scenario.timeline.size(), 2u);
    EXPECT_EQ(durable.scenario.max_duration, std::chrono::seconds(10));
    EXPECT_EQ(durable.scenario.expect.shutdown_time, plain.expect.shutdown_time) << "expect: keys the shape does not set stay";

    const auto& resume = shapes[2].scenario;
    ASSERT_EQ(resume.workloads.size(), 1u) << "without: leaves the scenario's workloads out";
    EXPECT_EQ(resume.workloads[0].name, "events");
    EXPECT_TRUE(resume.expect.streams_resumed);

    const auto& prefork = shapes[3].scenario;
    EXPECT_TRUE(command_has(prefork, "--workers"));
    EXPECT_TRUE(command_has(prefork, "--drain-delay")) << "args are added to the scenario's command";
    EXPECT_TRUE(prefork.expect.workers_drained);
    EXPECT_EQ(prefork.target.ready.timeout, std::chrono::seconds(10));

    const auto& short_grace = shapes[4];
    EXPECT_TRUE(command_has(short_grace.scenario, "1s"));
    EXPECT_EQ(short_grace.own_workloads, std::vector<std::string>{"outlasting"});
    for (const auto& s : shapes) {
        EXPECT_EQ(s.text.find("explore:"), s.name.empty() ? s.text.find("explore:") : std::string::npos) << "a shape's text is an ordinary scenario";
        EXPECT_NO_THROW(load_scenario_text(s.text, "shape.yaml")) << s.name;
    }
}

TEST(TargetShapes, AScenarioWithoutAnExploreSectionIsItsOnlyShape) {
    const std::string text = "name: one\ntarget: {command: [srv]}\nworkloads: [{name: w, request: {path: /}}]\n";
    const auto shapes = read_target_shapes(text, "one.yaml");
    ASSERT_EQ(shapes.size(), 1u);
    EXPECT_EQ(shapes[0].name, "");
}

TEST(TargetShapes, AShapeReplacesAWorkloadItLeavesOut) {
    const std::string text = "name: one\ntarget: {command: [srv]}\nworkloads: [{name: w, request: {path: /a}}, {name: v, request: {path: /v}}]\n"
                             "explore:\n  shapes:\n    - name: b\n      without: [w]\n      workloads: [{name: w, request: {path: /b}}]\n";
    const auto shapes = read_target_shapes(text, "one.yaml");
    ASSERT_EQ(shapes.size(), 2u);
    ASSERT_EQ(shapes[1].scenario.workloads.size(), 2u);
    EXPECT_EQ(shapes[1].scenario.workloads[0].name, "v");
    EXPECT_EQ(shapes[1].scenario.workloads[1].name, "w");
    EXPECT_EQ(shapes[1].scenario.workloads[1].request.path, "/b");
    EXPECT_EQ(shapes[0].scenario.workloads[0].request.path, "/a") << "the file's own document is not changed";
}

// Where read_target_shapes fails: "file:line:column: message".
std::string error_of(const std::string& shapes_section) {
    const std::string text = "name: one\ntarget: {command: [srv]}\nworkloads: [{name: w, request: {path: /}}]\nexplore:\n" + shapes_section;
    try {
        read_target_shapes(text, "one.yaml");
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "no error";
}

TEST(TargetShapes, ErrorsNameTheFileLineAndColumn) {
    EXPECT_EQ(error_of("  shapes:\n    - name: a\n      argz: [--x]\n").substr(0, 15), "one.yaml:7:7: u") << error_of("  shapes:\n    - name: a\n      argz: [--x]\n");
    EXPECT_NE(error_of("  shapes:\n    - name: a\n      argz: [--x]\n").find("args"), std::string::npos) << "the nearest key as a hint";
    EXPECT_EQ(error_of("  shapes:\n    - name: a\n      without: [w, v]\n"), "one.yaml:7:20: without: 'v' is not one of the scenario's workloads");
    // An error inside what a shape adds is at its place in the file, read by the scenario's own readers.
    const auto bad_expect = error_of("  shapes:\n    - name: a\n      expect: {shutdown_time: soon}\n");
    EXPECT_EQ(bad_expect.substr(0, 14), "one.yaml:7:31:") << bad_expect;
    const auto bad_workload = error_of("  shapes:\n    - name: a\n      workloads:\n        - {name: x, connections: 0, request: {path: /}}\n");
    EXPECT_EQ(bad_workload.substr(0, 14), "one.yaml:8:34:") << bad_workload;
    EXPECT_NE(error_of("  shapes:\n    - name: a\n    - name: a\n").find("defined twice"), std::string::npos);
    EXPECT_NE(error_of("  shapes:\n    - {args: [x]}\n").find("needs a name"), std::string::npos);
    EXPECT_NE(error_of("  shape: []\n").find("explore"), std::string::npos);
}

// A misspelt key no longer hides the shape's other mistakes: every one is said in one pass, in file
// order (before: only 'argz').
TEST(TargetShapes, AnUnknownKeyIsSaidWithTheShapesOtherErrors) {
    EXPECT_EQ(error_of("  shapes:\n    - name: \"bad name\"\n      argz: [--x]\n      withot: [w]\n"),
              "one.yaml:6:13: a target shape's name must be letters, digits, '-', '_' or '.' (got 'bad name')\n"
              "one.yaml:7:7: unknown key 'argz' in a target shape (did you mean 'args'?)\n"
              "one.yaml:8:7: unknown key 'withot' in a target shape (did you mean 'without'?)");
    EXPECT_EQ(error_of("  shapes:\n    - {nmae: a}\n"), "one.yaml:6:8: unknown key 'nmae' in a target shape (did you mean 'name'?)")
        << "not said missing too";
}

} // namespace
} // namespace lastcall::harness::explore
