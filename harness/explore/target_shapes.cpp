// The explore: section read, each shape assembled as a scenario document from the file's own nodes.
#include "target_shapes.hpp"

#include "scenario_loader.hpp"
#include "text_rules.hpp"
#include "yaml_document.hpp"
#include "yaml_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lastcall::harness::explore {

namespace {

// A new map with `base`'s entries and `over`'s on top; the nodes are the file's (their positions
// are kept), the maps new (the file's own document is never changed).
YAML::Node overlay(const YAML::Node& base, const YAML::Node& over) {
    YAML::Node out(YAML::NodeType::Map);
    if (base && base.IsMap()) {
        for (const auto& kv : base) {
            if (!over || !over[kv.first.Scalar()]) out[kv.first] = kv.second;
        }
    }
    if (over) {
        for (const auto& kv : over) out[kv.first] = kv.second;
    }
    return out;
}

// The scenario's items but those named in `without`, then the shape's (which may so replace one).
YAML::Node concatenated(const YAML::Node& scenario, const YAML::Node& shape, const std::vector<std::string>& without = {}) {
    YAML::Node out(YAML::NodeType::Sequence);
    if (scenario && scenario.IsSequence()) {
        for (const auto& item : scenario) {
            const YAML::Node& read = item;
            const bool left_out = read.IsMap() && read["name"] && read["name"].IsScalar() &&
                                  std::find(without.begin(), without.end(), read["name"].Scalar()) != without.end();
            if (!left_out) out.push_back(item);
        }
    }
    if (shape && shape.IsSequence()) {
        for (const auto& item : shape) out.push_back(item);
    }
    return out;
}

struct ShapeOverlay {
    std::string name;
    std::vector<std::string> without;
    YAML::Node node;
};

ShapeOverlay read_overlay(const YamlReader& r, const YAML::Node& node, const Scenario& base) {
    r.expect_map(node, "explore.shapes[]");
    // An unknown key is said with what else the shape gets wrong (throw_kept() at the end), not alone.
    const bool keys_known =
        r.check_keys(node, "a target shape", {"name", "description", "args", "ready", "workloads", "without", "timeline", "expect", "limits"});
    ShapeOverlay o;
    if (!node["name"] && keys_known) r.fail(node, "a target shape needs a name");
    if (node["name"]) {
        o.name = r.string(node["name"], "a target shape's name");
        if (!is_safe_name(o.name)) r.fail(node["name"], fmt::format("a target shape's name must be letters, digits, '-', '_' or '.' (got '{}')", o.name));
    }
    if (node["description"]) r.string(node["description"], "a target shape's description");
    if (node["args"]) r.string_list(node["args"], "a target shape's args");
    if (node["ready"]) r.expect_map(node["ready"], "a target shape's ready");
    for (const char* key : {"expect", "limits"}) {
        if (node[key]) r.expect_map(node[key], fmt::format("a target shape's {}", key));
    }
    for (const char* key : {"workloads", "timeline"}) {
        if (node[key] && !node[key].IsSequence()) r.fail(node[key], fmt::format("a target shape's {} must be a list", key));
    }
    if (node["without"]) {
        o.without = r.string_list(node["without"], "a target shape's without");
        std::size_t i = 0;
        for (const auto& name : o.without) {
            const auto same = [&](const Workload& w) { return w.name == name; };
            if (std::none_of(base.workloads.begin(), base.workloads.end(), same)) {
                r.fail(node["without"][i], fmt::format("without: '{}' is not one of the scenario's workloads", name));
            }
            ++i;
        }
    }
    r.throw_kept();
    o.node = node;
    return o;
}

// The scenario document with the shape laid over it.
YAML::Node shaped(const YAML::Node& root, const ShapeOverlay& o) {
    const YAML::Node& shape = o.node;
    YAML::Node doc(YAML::NodeType::Map);
    for (const auto& kv : root) {
        const auto key = kv.first.Scalar();
        if (key == "explore" || key == "target" || key == "workloads" || key == "timeline" || key == "expect" || key == "limits") continue;
        doc[kv.first] = kv.second;
    }
    const YAML::Node& target = root["target"];
    YAML::Node command(YAML::NodeType::Sequence);
    for (const auto& arg : target["command"]) command.push_back(arg);
    if (shape["args"]) {
        for (const auto& arg : shape["args"]) command.push_back(arg);
    }
    YAML::Node target_over(YAML::NodeType::Map);
    target_over["command"] = command;
    if (shape["ready"]) target_over["ready"] = shape["ready"];
    doc["target"] = overlay(target, target_over);
    doc["workloads"] = concatenated(root["workloads"], shape["workloads"], o.without);
    const auto timeline = concatenated(root["timeline"], shape["timeline"]);
    if (timeline.size() > 0) doc["timeline"] = timeline;
    for (const char* key : {"expect", "limits"}) {
        if (root[key] || shape[key]) doc[key] = overlay(root[key], shape[key]);
    }
    return doc;
}

} // namespace

std::vector<TargetShape> read_target_shapes(const std::string& text, const std::string& file, const ScenarioVariables& variables) {
    std::vector<TargetShape> shapes{TargetShape{"", text, load_scenario_text(text, file, variables), {}}};
    auto root = parse_yaml_document(text, file);
    substitute_variables(root, file, variables);
    const YAML::Node& read = root;
    const YAML::Node& section = read["explore"];
    if (!section) return shapes;
    const YamlReader r(file);
    r.expect_map(section, "explore");
    r.check_keys(section, "explore", {"shapes"});
    r.throw_kept();
    if (!section["shapes"]) return shapes;
    if (!section["shapes"].IsSequence()) r.fail(section["shapes"], "explore.shapes must be a list of target shapes");
    const auto base = shapes.front().scenario;  // a copy: shapes grows below
    for (const auto& node : section["shapes"]) {
        ShapeOverlay o;
        try {
            o = read_overlay(r, node, base);
        } catch (const ScenarioError& e) {
            r.throw_with_kept(e);  // a shape's unknown keys, kept, with the error that ended its reading
        }
        for (const auto& s : shapes) {
            if (s.name == o.name) r.fail(node["name"], fmt::format("target shape '{}' is defined twice", o.name));
        }
        const YAML::Node& written = o.node;
        if (written["args"] && base.target.command.empty()) r.fail(written["args"], "args: the scenario's target has no command to add them to");
        const auto doc = shaped(root, o);
        TargetShape shape;
        shape.name = o.name;
        shape.scenario = read_scenario_document(doc, file);
        YAML::Emitter out;
        out << doc;
        shape.text = std::string(out.c_str()) + "\n";
        if (written["workloads"]) {
            for (const auto& w : written["workloads"]) {
                if (w["name"]) shape.own_workloads.push_back(w["name"].Scalar());
            }
        }
        shapes.push_back(std::move(shape));
    }
    return shapes;
}

std::vector<TargetShape> plain_shape(const Scenario& scenario, const std::string& text) { return {TargetShape{"", text, scenario, {}}}; }

} // namespace lastcall::harness::explore
