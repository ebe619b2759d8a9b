#include "scenario_error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

namespace lastcall::harness {

ScenarioError::ScenarioError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

ScenarioError::ScenarioError(std::string file, const std::string& message)
    : std::runtime_error(fmt::format("{}: {}", file, message)), file_(std::move(file)) {}

ScenarioError::ScenarioError(Joined, const std::string& text, std::string file, int line, int column, int count)
    : std::runtime_error(text), file_(std::move(file)), line_(line), column_(column), count_(count) {}

ScenarioError ScenarioError::several(std::vector<ScenarioError> errors, bool cut_short) {
    std::stable_sort(errors.begin(), errors.end(), [](const ScenarioError& a, const ScenarioError& b) {
        return std::pair(a.line_, a.column_) < std::pair(b.line_, b.column_);
    });
    std::vector<std::string> lines;
    for (const auto& e : errors) {
        if (std::find(lines.begin(), lines.end(), e.what()) == lines.end()) lines.emplace_back(e.what());
    }
    const auto& first = errors.front();
    std::string text = fmt::format("{}", fmt::join(lines, "\n"));
    if (cut_short) text += fmt::format("\n{}: (reading stopped after these {} errors; there may be more)", first.file_, lines.size());
    return ScenarioError(Joined{}, text, first.file_, first.line_, first.column_, static_cast<int>(lines.size()));
}

} // namespace lastcall::harness
