#pragma once
// The readers of a scenario's sections (used by scenario_loader.cpp only). Each checks its fields'
// types and ranges at their positions; cross-field rules that need the rest of the scenario take
// what is already read (max_duration, the workloads).
#include "scenario.hpp"
#include "yaml_reader.hpp"

namespace lastcall::harness {

// scenario_target.cpp
Target read_target(const YamlReader& r, const YAML::Node& node);
// scenario_workload.cpp; `max_duration` is limits.max_duration, read before the workloads.
Workload read_workload(const YamlReader& r, const YAML::Node& node, Duration max_duration);
// The workload of that name, or null. While a scenario with errors is read, a workload that did not
// read stands in under its name, or under any name when its own did not read either (the empty
// name, which no workload that read has): scenario_loader.cpp.
const Workload* find_workload(const Scenario& s, std::string_view name);
// A scenario or workload name: one path component (text_rules.hpp is_safe_name).
std::string read_name(const YamlReader& r, const YAML::Node& node, std::string_view what);
// A JSON pointer (RFC 6901) as nlohmann::json parses it; "" is the whole document.
std::string read_json_pointer(const YamlReader& r, const YAML::Node& node, std::string_view what);
// A request path in origin-form (text_rules.hpp is_origin_form).
std::string read_request_path(const YamlReader& r, const YAML::Node& node, std::string_view what);
// scenario_timeline.cpp; `s` holds max_duration and the workloads.
TimelineEntry read_timeline_entry(const YamlReader& r, const YAML::Node& node, const Scenario& s);
// scenario_expectations_workers.cpp: `zero_downtime: true | {within, max_latency}` (nullopt for
// false) and `workers_drained: true | {killed, crashed, exit}`.
std::optional<Expectations::ZeroDowntime> read_zero_downtime(const YamlReader& r, const YAML::Node& node);
std::optional<Expectations::WorkersDrained> read_workers_drained(const YamlReader& r, const YAML::Node& node);
// scenario_proxy.cpp
ProxyConfig read_proxy(const YamlReader& r, const YAML::Node& node);
// scenario_expectations.cpp; `s` holds the workloads.
Expectations read_expectations(const YamlReader& r, const YAML::Node& node, const Scenario& s);

} // namespace lastcall::harness
