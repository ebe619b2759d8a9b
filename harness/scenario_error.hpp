#pragma once
// The one error a scenario file can produce: where (file:line:column) and what was expected.
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::harness {

class ScenarioError : public std::runtime_error {
public:
    // At a place in the file, line and column from 1: "file:line:column: message".
    ScenarioError(std::string file, int line, int column, const std::string& message);
    // About the file as a whole (it cannot be read, a directory holds no scenarios): "file: message",
    // with line() and column() 0.
    ScenarioError(std::string file, const std::string& message);

    // Every independent error of one file, in file order (line, then column), one a line; file(),
    // line() and column() are the first's. `cut_short`: reading stopped at the bound, more may follow.
    static ScenarioError several(std::vector<ScenarioError> errors, bool cut_short);

    const std::string& file() const { return file_; }
    int count() const { return count_; }  // how many errors what() holds
    int line() const { return line_; }
    int column() const { return column_; }

private:
    std::string file_;
    int line_ = 0;
    int column_ = 0;
    int count_ = 1;

    struct Joined {};
    ScenarioError(Joined, const std::string& text, std::string file, int line, int column, int count);
};

} // namespace lastcall::harness
