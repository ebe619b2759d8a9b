#pragma once
// Reads scenario YAML into a validated Scenario. Every error names file:line:column and what was
// expected: unknown keys (with the nearest valid one), wrong types, bad durations or rates, unknown
// signals, workloads referenced but not defined.
#include "scenario.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::harness {

class ScenarioError : public std::runtime_error {
public:
    ScenarioError(std::string file, int line, int column, const std::string& message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    int column() const { return column_; }

private:
    std::string file_;
    int line_;
    int column_;
};

Scenario load_scenario_file(const std::filesystem::path& file);
Scenario load_scenario_text(const std::string& text, const std::string& file_name);

// Expands files and directories (every *.yaml / *.yml inside, sorted) into scenario files.
std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& arguments);

} // namespace lastcall::harness
