#include "scenario_mutator.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <string_view>

namespace lastcall::harness::testing {

std::uint64_t FuzzRng::next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

namespace {

using Corpus = std::vector<std::string>;

template <typename List>
const auto& pick(const List& list, FuzzRng& rng) {
    return list[rng.below(std::size(list))];
}

// Where each line starts; a text has at least one line.
std::vector<std::size_t> line_starts(const std::string& text) {
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && i + 1 < text.size()) starts.push_back(i + 1);
    }
    return starts;
}

std::size_t line_end(const std::string& text, std::size_t start) {
    const auto end = text.find('\n', start);
    return end == std::string::npos ? text.size() : end;
}

// [begin, end) of a random line's content and its leading spaces.
struct LineSpan {
    std::size_t begin, end;
    std::string indent;
};
LineSpan random_line(const std::string& text, FuzzRng& rng) {
    const auto starts = line_starts(text);
    const auto begin = pick(starts, rng);
    const auto end = line_end(text, begin);
    const auto content = text.find_first_not_of(' ', begin);
    return {begin, end, std::string(std::min(content, end) - begin, ' ')};
}

// The value of a random "key: value" line: [begin, end) after ": ", or nothing.
std::optional<std::pair<std::size_t, std::size_t>> random_value(const std::string& text, FuzzRng& rng) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        const auto line = random_line(text, rng);
        const auto colon = text.find(": ", line.begin);
        if (colon != std::string::npos && colon < line.end) return std::pair{colon + 2, line.end};
    }
    return std::nullopt;
}

void replace_value(std::string& text, FuzzRng& rng, std::string_view value) {
    if (const auto span = random_value(text, rng)) text.replace(span->first, span->second - span->first, value);
}

constexpr std::string_view interesting_values[] = {
    // numbers
    "0", "-1", "1", "65535", "65536", "99999999999999999999", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "1e300", "1e-300", "0x10", "0o17", "+5", "1.5", ".nan", ".inf", "-.inf", "nan", "inf",
    // durations and rates
    "0s", "1ns", "1us", "24h", "25h", "2562047h", "2562048h", "1e300s", "99999999999999h", "nans", "-1s", "1.s", "nan/s",
    "inf/s", "1e-300/s", "0.1/h", "1/h", "1000000/s", "1000001/s", "200/s", "30/m", "5/d",
    // names and paths
    "../outside", "..", ".", ".hidden", "a/b", "all", "''", "\"\"", "/", "/a b", "\"/a\\r\\nHost: x\"", "'/caf\xc3\xa9'", "nope",
    // strings with escapes that decode to control characters
    "\"a\\r\\nX-Injected: 1\"", "\"\\0\"", "\"\\x01\"", "\"\\t\"", "\"\\u2028\"", "\"\\U0010FFFF\"", "\" lead\"",
    // signals, targets and conditions
    "TERM", "SIGKILL", "RTMIN+99", "RTMAX-1", "65", "child 0", "child 1", "child 99999999999", "group",
    "in_flight >= 0", "in_flight >= 99999999999999999999", "in_flight >= -1", "exited", "not_ready",
    // shapes and YAML features
    "~", "null", "[]", "{}", "[a, b]", "{a: 1}", "[[[[[[]]]]]]", "!!binary aGVsbG8=", "!custom x", "!!int 3", "!!str 3",
    "|\n  block\n  scalar", ">-\n  folded", "'quoted'", "true", "yes", "no", "&v 3", "*v", "*undefined", "? x",
};

constexpr std::string_view control_characters[] = {
    std::string_view("\0", 1), "\r", "\x01", "\x1b", "\x7f", "\xc2\x85", "\xe2\x80\xa8", "\t", "\xef\xbb\xbf", "\r\n", "\n",
};

constexpr std::string_view invalid_utf8[] = {"\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80"};

constexpr std::string_view yaml_tokens[] = {
    ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!", "!!", "|", ">", "%YAML 1.2\n---\n", "---\n", "...\n", "#", "'", "\"",
    "? ", "\t", "<<: *a\n", "@", "`", "%TAG ! tag:x,2000:\n",
};

void flip_byte(std::string& text, FuzzRng& rng, const Corpus&) {
    if (!text.empty()) text[rng.below(text.size())] = static_cast<char>(rng.below(256));
}

void flip_bit(std::string& text, FuzzRng& rng, const Corpus&) {
    if (!text.empty()) text[rng.below(text.size())] ^= static_cast<char>(1 << rng.below(8));
}

void insert_bytes(std::string& text, FuzzRng& rng, const Corpus&) {
    std::string bytes(1 + rng.below(4), '\0');
    for (auto& b : bytes) b = static_cast<char>(rng.below(256));
    text.insert(rng.below(text.size() + 1), bytes);
}

void delete_line(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    text.erase(line.begin, std::min(line.end + 1, text.size()) - line.begin);
}

// Also makes duplicate keys.
void duplicate_line(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    text.insert(line.begin, text.substr(line.begin, line.end - line.begin) + "\n");
}

void swap_lines(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto a = random_line(text, rng);
    const auto b = random_line(text, rng);
    if (a.begin == b.begin) return;
    const auto& first = a.begin < b.begin ? a : b;
    const auto& second = a.begin < b.begin ? b : a;
    const auto first_text = text.substr(first.begin, first.end - first.begin);
    const auto second_text = text.substr(second.begin, second.end - second.begin);
    text.replace(second.begin, second.end - second.begin, first_text);
    text.replace(first.begin, first.end - first.begin, second_text);
}

void swap_key_value(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    const auto content = line.begin + line.indent.size();
    const auto colon = text.find(": ", content);
    if (colon == std::string::npos || colon >= line.end) return;
    const auto key = text.substr(content, colon - content);
    const auto value = text.substr(colon + 2, line.end - colon - 2);
    text.replace(content, line.end - content, value + ": " + key);
}

// The crash seen in the field: a key that is a list or a mapping.
void complex_key(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    constexpr std::string_view shapes[] = {"? [a, b]\n{i}: 1\n", "[a, b]: 1\n", "{a: 1}: x\n", "? {k: v}\n", ": lonely\n",
                                           "? \n", "? - a\n{i}  - b\n{i}: c\n", "~: 1\n", "*a : 1\n"};
    std::string shape(pick(shapes, rng));
    for (std::size_t at; (at = shape.find("{i}")) != std::string::npos;) shape.replace(at, 3, line.indent);
    text.insert(line.begin, line.indent + shape);
}

void interesting_value(std::string& text, FuzzRng& rng, const Corpus&) { replace_value(text, rng, pick(interesting_values, rng)); }

void deep_nesting(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto depth = rng.one_in(8) ? 1 + rng.below(5000) : 1 + rng.below(60);
    std::string nested;
    switch (rng.below(4)) {
    case 0: nested = std::string(depth, '[') + "x" + std::string(depth, ']'); break;
    case 1:
        for (std::size_t i = 0; i < depth; ++i) nested += "{a: ";
        nested += "1" + std::string(depth, '}');
        break;
    case 2: nested = std::string(depth, '['); break;  // never closed
    default:
        for (std::size_t i = 0; i < std::min<std::size_t>(depth, 400); ++i) nested += "\n" + std::string(2 * i + 2, ' ') + "-";
        break;
    }
    replace_value(text, rng, nested);
}

void anchors(std::string& text, FuzzRng& rng, const Corpus&) {
    switch (rng.below(4)) {
    case 0:
        if (const auto a = random_value(text, rng)) {
            text.insert(a->first, "&x ");
            replace_value(text, rng, "*x");
        }
        break;
    case 1: text += "\n" + billion_laughs(1 + rng.below(9)); break;
    case 2: replace_value(text, rng, "&c [*c]"); break;
    default: replace_value(text, rng, "&m {a: *m}"); break;
    }
}

void control_character(std::string& text, FuzzRng& rng, const Corpus&) {
    text.insert(rng.below(text.size() + 1), pick(control_characters, rng));
}

void bad_utf8(std::string& text, FuzzRng& rng, const Corpus&) { text.insert(rng.below(text.size() + 1), pick(invalid_utf8, rng)); }

void truncate(std::string& text, FuzzRng& rng, const Corpus&) { text.resize(rng.below(text.size() + 1)); }

void yaml_token(std::string& text, FuzzRng& rng, const Corpus&) { text.insert(rng.below(text.size() + 1), pick(yaml_tokens, rng)); }

void splice(std::string& text, FuzzRng& rng, const Corpus& corpus) {
    const auto& other = pick(corpus, rng);
    if (other.empty()) return;
    const auto from = rng.below(other.size());
    const auto length = 1 + rng.below(other.size() - from);
    text.insert(random_line(text, rng).begin, other.substr(from, length));
}

void repeat_line(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    const auto copy = text.substr(line.begin, line.end - line.begin) + "\n";
    std::string repeated;
    for (std::size_t i = 1 + rng.below(rng.one_in(10) ? 500 : 20); i > 0; --i) repeated += copy;
    text.insert(line.begin, repeated);
}

void shift_indent(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto line = random_line(text, rng);
    switch (rng.below(3)) {
    case 0: text.insert(line.begin, std::string(1 + rng.below(4), ' ')); break;
    case 1: text.erase(line.begin, std::min<std::size_t>(line.indent.size(), 1 + rng.below(4))); break;
    default: text.replace(line.begin, line.indent.size(), "\t"); break;
    }
}

void flow_duplicate(std::string& text, FuzzRng& rng, const Corpus&) {
    const auto brace = text.find('{', rng.below(text.size() + 1));
    if (brace != std::string::npos) text.insert(brace + 1, "dup: 1, dup: 2, ");
}

using Mutation = void (*)(std::string&, FuzzRng&, const Corpus&);
constexpr Mutation mutations[] = {
    flip_byte,      flip_bit,       insert_bytes, delete_line, duplicate_line, swap_lines, swap_key_value, complex_key,
    interesting_value, interesting_value, interesting_value, deep_nesting, anchors, control_character, bad_utf8, truncate,
    yaml_token,     yaml_token,     splice,       repeat_line, shift_indent, flow_duplicate,
};

std::string restyle(const std::string& text, YAML::EMITTER_MANIP style) {
    try {
        YAML::Emitter out;
        out.SetMapFormat(style);
        out.SetSeqFormat(style);
        out << YAML::Load(text);
        return out.good() ? std::string(out.c_str()) + "\n" : std::string();
    } catch (const YAML::Exception&) {
        return {};
    }
}

} // namespace

std::string billion_laughs(std::size_t levels) {
    std::string text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (std::size_t i = 1; i <= levels; ++i) {
        text += fmt::format("l{}: &l{} [", i, i);
        for (int k = 0; k < 10; ++k) text += fmt::format("*l{}{}", i - 1, k < 9 ? ", " : "]\n");
    }
    return text;
}

ScenarioMutator::ScenarioMutator(std::vector<std::string> corpus) : corpus_(std::move(corpus)) {
    // Only the well-formed library is re-emitted: a nasty seed may hold an alias cycle.
    for (const auto& text : corpus_) {
        restyled_.push_back(restyle(text, YAML::Flow));
        restyled_.push_back(restyle(text, YAML::Block));
    }
    for (auto& seed : nasty_seeds()) corpus_.push_back(std::move(seed));
}

std::string ScenarioMutator::input(std::uint64_t seed) const {
    FuzzRng rng(seed);
    std::string text = rng.one_in(4) && !restyled_.empty() ? pick(restyled_, rng) : pick(corpus_, rng);
    if (rng.one_in(10)) return text;
    // A third of the inputs only change one value, so that many of them still load and the model's
    // invariants are checked on what the loader accepted.
    const bool values_only = rng.one_in(3);
    for (auto count = values_only ? 1 : 1 + rng.below(5); count > 0; --count) {
        const auto mutation = values_only ? interesting_value : pick(mutations, rng);
        mutation(text, rng, corpus_);
    }
    return text;
}

} // namespace lastcall::harness::testing
