#pragma once
// What the loader says about a scenario text: "line:column: message", "no error", or what went
// wrong instead of a ScenarioError (so a test that expects an error reads the whole answer).
#include "scenario_loader.hpp"

#include <fmt/format.h>

#include <string>

namespace lastcall::harness::testing {

inline std::string error_of(const std::string& text) {
    try {
        load_scenario_text(text, "s.yaml");
    } catch (const ScenarioError& e) {
        const std::string what = e.what();
        if (!what.starts_with(fmt::format("s.yaml:{}:{}: ", e.line(), e.column()))) return "position and message disagree: " + what;
        return what.substr(what.find(':') + 1);
    } catch (const std::exception& e) {
        return std::string("not a ScenarioError: ") + e.what();
    }
    return "no error";
}

// A scenario that loads, to which a test appends what it checks.
inline const std::string minimal_head = "name: x\ntarget: {command: [srv]}\n";

} // namespace lastcall::harness::testing
