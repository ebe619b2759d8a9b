#pragma once
// A scenario file's text, parsed by yaml-cpp inside bounds that no file can break: at most
// max_file_bytes of UTF-8 text without control characters, exactly one document, keys that are
// names and appear once per mapping, nesting and alias expansion bounded (a "billion laughs" file
// or an anchor that contains itself is refused, not walked). Every refusal is a ScenarioError
// at file:line:column.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace lastcall::harness {

namespace yaml_limits {
inline constexpr std::size_t max_file_bytes = 1 << 20;  // the largest scenario in the library is 2 KiB
inline constexpr int max_depth = 32;                    // a scenario nests 6 levels
inline constexpr std::size_t max_nodes = 100'000;       // counted with every alias expanded
} // namespace yaml_limits

YAML::Node parse_yaml_document(const std::string& text, const std::string& file);

} // namespace lastcall::harness
