#include "yaml_reader.hpp"

#include "signals.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <csignal>

namespace lastcall::harness {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const auto above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string_view nearest(std::string_view key, std::initializer_list<std::string_view> allowed) {
    std::string_view best;
    std::size_t best_distance = 3;  // farther than this is no hint
    for (const auto candidate : allowed) {
        if (const auto d = edit_distance(key, candidate); d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

// "a, b or c"
std::string one_of(const std::vector<std::string_view>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

} // namespace

ScenarioError YamlReader::error_at(const YAML::Node& node, const std::string& message) const {
    const auto mark = node.Mark();
    // Every node the readers see came from the parser and has a mark; 1:1 is only a fallback.
    if (mark.line < 0 || mark.column < 0) return ScenarioError(file_, 1, 1, message);
    return ScenarioError(file_, mark.line + 1, mark.column + 1, message);
}

void YamlReader::fail(const YAML::Node& node, const std::string& message) const { throw error_at(node, message); }

void YamlReader::keep(ScenarioError error) const {
    errors_.push_back(std::move(error));
    if (errors_.size() >= max_errors) throw ErrorLimit(errors_.back());
}

void YamlReader::expect_map(const YAML::Node& node, std::string_view what) const {
    if (!node.IsMap()) fail(node, fmt::format("{} must be a mapping", what));
}

bool YamlReader::check_keys(const YAML::Node& map, std::string_view what, std::initializer_list<std::string_view> allowed) const {
    bool known = true;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const auto& key = it->first.Scalar();  // yaml_document made every key a scalar
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string message = fmt::format("unknown key '{}' in {}", printable(key), what);
        if (const auto near = nearest(key, allowed); !near.empty()) message += fmt::format(" (did you mean '{}'?)", near);
        keep(error_at(it->first, message));
        known = false;
    }
    return known;
}

void YamlReader::throw_kept() const {
    if (errors_.empty()) return;
    auto kept = std::move(errors_);
    errors_.clear();
    throw ScenarioError::several(std::move(kept), false);
}

void YamlReader::throw_with_kept(const ScenarioError& error) const {
    if (errors_.empty()) throw error;
    errors_.push_back(error);
    throw_kept();
    throw error;  // not reached: throw_kept() threw
}

std::string YamlReader::string(const YAML::Node& node, std::string_view what) const {
    if (!node.IsScalar()) fail(node, fmt::format("{} must be a string", what));
    if (node.Scalar().find('\0') != std::string::npos) fail(node, fmt::format("{} must not contain a NUL character", what));
    return node.Scalar();
}

std::int64_t YamlReader::integer(const YAML::Node& node, std::string_view what, Range<std::int64_t> range) const {
    std::int64_t value = 0;
    bool ok = node.IsScalar();
    if (ok) {
        const auto& text = node.Scalar();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        ok = ec == std::errc{} && end == text.data() + text.size() && range.contains(value);
    }
    if (!ok) {
        fail(node, range.max == ranges::unbounded ? fmt::format("{} must be a whole number, {} or more", what, range.min)
                                                  : fmt::format("{} must be a whole number from {} to {}", what, range.min, range.max));
    }
    return value;
}

bool YamlReader::boolean(const YAML::Node& node, std::string_view what) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) fail(node, fmt::format("{} must be true or false", what));
    return value;
}

Duration YamlReader::duration(const YAML::Node& node, std::string_view what, Range<Duration> range) const {
    const auto parsed = node.IsScalar() ? parse_duration(node.Scalar()) : std::nullopt;
    if (!parsed || !range.contains(*parsed)) {
        fail(node, fmt::format("{} must be a duration from {} to {}, like 250ms, 3s or 1m", what, format_duration(range.min),
                               format_duration(range.max)));
    }
    return *parsed;
}

double YamlReader::rate(const YAML::Node& node, std::string_view what) const {
    const auto parsed = node.IsScalar() ? parse_rate(node.Scalar()) : std::nullopt;
    if (!parsed || !ranges::rate.contains(*parsed)) fail(node, fmt::format("{} must look like 200/s, 30/m or 1/h, {}", what, ranges::rate_text));
    return *parsed;
}

int YamlReader::signal(const YAML::Node& node) const {
    const auto parsed = node.IsScalar() ? parse_signal(node.Scalar()) : std::nullopt;
    if (!parsed) {
        fail(node, fmt::format("unknown signal '{}' (expected a name like TERM, QUIT, WINCH or RTMIN+1, or a number from 1 to {})",
                               node.IsScalar() ? printable(node.Scalar()) : "?", SIGRTMAX));
    }
    return *parsed;
}

std::vector<std::string> YamlReader::string_list(const YAML::Node& node, std::string_view what) const {
    if (!node.IsSequence()) fail(node, fmt::format("{} must be a list of strings", what));
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(string(item, what));
    return out;
}

std::map<std::string, std::string> YamlReader::string_map(const YAML::Node& node, std::string_view what) const {
    expect_map(node, what);
    std::map<std::string, std::string> out;
    for (auto it = node.begin(); it != node.end(); ++it) out[string(it->first, what)] = string(it->second, what);
    return out;
}

std::string YamlReader::unknown_choice_message(std::string_view what, const std::string& word, const std::vector<std::string_view>& names) {
    return fmt::format("unknown {} '{}' (expected {})", what, printable(word), one_of(names));
}

} // namespace lastcall::harness
