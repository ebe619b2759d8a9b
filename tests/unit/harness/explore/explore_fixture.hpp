#pragma once
// The scenario the explore unit tests start from: scenarios/explore/generic.yaml as loaded.
#include "explore/target_shapes.hpp"
#include "scenario_loader.hpp"

#include <fstream>
#include <iterator>
#include <string>

namespace lastcall::harness::explore {

inline std::string generic_text() {
    std::ifstream in(std::string(LASTCALL_SCENARIOS_DIR) + "/explore/generic.yaml");
    return {std::istreambuf_iterator<char>(in), {}};
}

inline Scenario generic_scenario() { return load_scenario_text(generic_text(), "generic.yaml"); }

// generic.yaml's target shapes: as written, durable, resume, prefork, prefork-short-grace.
inline std::vector<TargetShape> generic_shapes() { return read_target_shapes(generic_text(), "generic.yaml"); }

inline std::size_t shape_index(const std::vector<TargetShape>& shapes, const std::string& name) {
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        if (shapes[i].name == name) return i;
    }
    return shapes.size();
}

// generic.yaml's prefork shape: a master with workers, the one kind of target trials reload.
inline std::string prefork_text() {
    const auto shapes = generic_shapes();
    return shapes[shape_index(shapes, "prefork")].text;
}

inline Scenario prefork_scenario() { return load_scenario_text(prefork_text(), "prefork.yaml"); }


} // namespace lastcall::harness::explore
