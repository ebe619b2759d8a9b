#include "scenario_error.hpp"

#include <fmt/format.h>

namespace lastcall::harness {

ScenarioError::ScenarioError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

ScenarioError::ScenarioError(std::string file, const std::string& message)
    : std::runtime_error(fmt::format("{}: {}", file, message)), file_(std::move(file)) {}

} // namespace lastcall::harness
