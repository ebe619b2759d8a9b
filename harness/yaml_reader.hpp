#pragma once
// Typed reads from a parsed scenario (see yaml_document.hpp), each checked at its node: a wrong type,
// a value outside its range or an unknown key throws ScenarioError at that node's line and column,
// naming the field and what it takes.
#include "scenario_error.hpp"
#include "scenario_ranges.hpp"
#include "units.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastcall::harness {

class YamlReader {
public:
    explicit YamlReader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;

    // Reads one independent part of a scenario (a section, a workload, a field): an error there is
    // kept and reading goes on with the next part, so that one file's errors are all said at once
    // (scenario_loader.cpp throws them together, in file order). False when `read` failed. Past
    // max_errors, ErrorLimit ends the reading.
    template <typename Read>
    bool attempt(Read&& read) const {
        try {
            read();
            return true;
        } catch (ErrorLimit&) {
            throw;
        } catch (ScenarioError& e) {
            keep(std::move(e));
            return false;
        }
    }
    static constexpr std::size_t max_errors = 20;
    // The last error kept, at the bound: attempt() lets it through, and a reader that keeps nothing
    // apart still sees an error at a position.
    struct ErrorLimit : ScenarioError {
        explicit ErrorLimit(const ScenarioError& last) : ScenarioError(last) {}
    };
    const std::vector<ScenarioError>& errors() const { return errors_; }

    void expect_map(const YAML::Node& node, std::string_view what) const;
    // Unknown keys are errors, with the closest allowed key as a hint: every one of the map is kept
    // (said with the others at the end), none thrown, so the rest of the map is still read. False
    // when one was unknown: the reader then says nothing of a key it misses, nor of what depends on
    // a key's default (`mdoe: open` beside `rate:`), since the unknown key may be that one misspelt.
    bool check_keys(const YAML::Node& map, std::string_view what, std::initializer_list<std::string_view> allowed) const;
    // For a reader that does not end in the scenario loader's (which throws what was kept): throws
    // every error kept so far together, in file order, if there is one, and forgets them.
    void throw_kept() const;
    // Throws `error` with every error kept so far, in file order (`error` alone if none was kept).
    [[noreturn]] void throw_with_kept(const ScenarioError& error) const;

    // A scalar, without NUL (every string ends up in argv, a path, a header or a report).
    std::string string(const YAML::Node& node, std::string_view what) const;
    std::int64_t integer(const YAML::Node& node, std::string_view what, Range<std::int64_t> range) const;
    bool boolean(const YAML::Node& node, std::string_view what) const;
    Duration duration(const YAML::Node& node, std::string_view what, Range<Duration> range) const;
    // Requests per second.
    double rate(const YAML::Node& node, std::string_view what) const;
    int signal(const YAML::Node& node) const;
    std::vector<std::string> string_list(const YAML::Node& node, std::string_view what) const;
    std::map<std::string, std::string> string_map(const YAML::Node& node, std::string_view what) const;

    // One of a few words: `unknown mode 'x' (expected closed or open)`.
    template <typename Value>
    Value choice(const YAML::Node& node, std::string_view what,
                 std::initializer_list<std::pair<std::string_view, Value>> options) const {
        const auto word = string(node, what);
        for (const auto& [name, value] : options) {
            if (name == word) return value;
        }
        std::vector<std::string_view> names;
        for (const auto& option : options) names.push_back(option.first);
        fail(node, unknown_choice_message(what, word, names));
    }

private:
    ScenarioError error_at(const YAML::Node& node, const std::string& message) const;
    void keep(ScenarioError error) const;
    static std::string unknown_choice_message(std::string_view what, const std::string& word, const std::vector<std::string_view>& names);

    std::string file_;
    // Kept by attempt() and check_keys(); the readers are const, what they found is not their state.
    mutable std::vector<ScenarioError> errors_;
};

} // namespace lastcall::harness
