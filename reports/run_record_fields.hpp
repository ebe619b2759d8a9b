#pragma once
// Reading a run directory's files at the edge (run_record.cpp, run_record_requests.cpp): each field
// checked for its type, and what is wrong named with the file (and its line, in a .jsonl file),
// never an exception from the parser.
#include "checks.hpp"
#include "run_record.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace lastcall::reports::record {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] inline void fail(const fs::path& file, const std::string& what) { throw RunRecordError(fmt::format("{}: {}", file.string(), what)); }

// Where a file is read: the file, and its line in a .jsonl file, for the error.
struct Source {
    fs::path file;
    std::size_t line = 0;
    [[noreturn]] void fail(const std::string& what) const {
        record::fail(line ? fs::path(fmt::format("{}:{}", file.string(), line)) : file, what);
    }
};

template <class T> const char* type_word() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_same_v<T, std::string>) return "string";
    else if constexpr (std::is_arithmetic_v<T>) return "number";
    else return "list";
}

// A field of an object, of the type asked for; else the file and the field are named.
template <class T> T field(const json& object, const char* name, const Source& at) {
    if (!object.is_object()) at.fail(fmt::format("expected an object where '{}' is", name));
    const auto it = object.find(name);
    if (it == object.end()) at.fail(fmt::format("no '{}'", name));
    if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) at.fail(fmt::format("'{}' is not {}", name, type_word<T>()));
    } else if constexpr (std::is_arithmetic_v<T>) {
        if (!it->is_number()) at.fail(fmt::format("'{}' is not a {}", name, type_word<T>()));
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) at.fail(fmt::format("'{}' is not a {}", name, type_word<T>()));
    }
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        at.fail(fmt::format("'{}' is not a {}", name, type_word<T>()));
    }
}

// A field a file may leave out (history.jsonl at its defaults: harness/history.hpp; one a later
// lastcall added): `absent` when it is not there.
template <class T> T field_or(const json& object, const char* name, T absent, const Source& at) {
    return object.is_object() && object.contains(name) ? field<T>(object, name, at) : absent;
}

inline std::optional<double> optional_field(const json& object, const char* name, const Source& at) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) at.fail(fmt::format("'{}' is not a number", name));
    return it->get<double>();
}

// An enum from the name its to_string gives.
template <class E> E named(std::string_view text, E last, const Source& at, const char* what) {
    for (int i = 0; i <= static_cast<int>(last); ++i) {
        if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
    }
    at.fail(fmt::format("unknown {} '{}'", what, text));
}

// Each line of a .jsonl file as an object, with its Source for errors. An absent file is no lines.
template <class Each> void read_lines(const fs::path& file, Each each) {
    std::ifstream in(file);
    if (!in) return;
    Source at{file, 0};
    for (std::string line; std::getline(in, line);) {
        ++at.line;
        if (line.empty()) continue;
        const auto value = json::parse(line, nullptr, false);
        if (value.is_discarded() || !value.is_object()) at.fail("not a JSON object");
        each(value, at);
    }
}

inline std::vector<std::string> strings(const json& object, const char* name, const Source& at) {
    const auto list = field<json>(object, name, at);
    if (!list.is_array()) at.fail(fmt::format("'{}' is not a list", name));
    std::vector<std::string> out;
    for (const auto& s : list) {
        if (!s.is_string()) at.fail(fmt::format("'{}' holds a value that is not a string", name));
        out.push_back(s.get<std::string>());
    }
    return out;
}

} // namespace lastcall::reports::record
