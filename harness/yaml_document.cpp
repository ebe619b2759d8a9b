#include "yaml_document.hpp"

#include "scenario_error.hpp"
#include "text_rules.hpp"

#include <yaml-cpp/depthguard.h>

#include <fmt/format.h>

#include <optional>
#include <unordered_set>

namespace lastcall::harness {

namespace {

// Line and column from 1, columns counted in characters as yaml-cpp counts them.
struct Position {
    int line = 1;
    int column = 1;
};

Position end_of(const std::string& text) {
    Position end;
    for (const char c : text) {
        if (c == '\n') {
            ++end.line;
            end.column = 1;
        } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
            ++end.column;
        }
    }
    return end;
}

// yaml-cpp marks count from 0; a mark it could not place (null) is put at the end of the text.
Position position_of(const YAML::Mark& mark, const std::string& text) {
    return mark.line < 0 || mark.column < 0 ? end_of(text) : Position{mark.line + 1, mark.column + 1};
}

// yaml-cpp's depth guard marks where its scanner stopped, often the end of the text. Where flow
// brackets did it, the bracket that passes max_depth is the better place to point at (quoted
// brackets are counted too: this only places the error, it decides nothing).
std::optional<Position> deep_flow_position(const std::string& text) {
    Position at;
    int depth = 0;
    for (const char c : text) {
        if (c == '[' || c == '{') {
            if (++depth > yaml_limits::max_depth) return at;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        if (c == '\n') {
            ++at.line;
            at.column = 1;
        } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
            ++at.column;
        }
    }
    return std::nullopt;
}

// Rejects what yaml-cpp would misread or silently drop: bytes that are not UTF-8 (it replaces
// them), NUL (it ends the stream there), other control characters, and line breaks it does not
// count as line breaks (a lone CR, NEL, U+2028), which would put every later position off.
class TextCheck {
public:
    TextCheck(const std::string& text, const std::string& file) : text_(text), file_(file) {}

    void run() {
        if (text_.size() > yaml_limits::max_file_bytes) {
            fail(fmt::format("the file is {} bytes; a scenario file is at most {} bytes", text_.size(), yaml_limits::max_file_bytes));
        }
        if (text_.starts_with("\xef\xbb\xbf")) i_ = 3;  // a UTF-8 byte order mark
        while (i_ < text_.size()) step();
    }

private:
    [[noreturn]] void fail(const std::string& message) const { throw ScenarioError(file_, at_.line, at_.column, message); }

    unsigned char byte(std::size_t index) const { return index < text_.size() ? static_cast<unsigned char>(text_[index]) : 0; }

    void step() {
        const auto c = byte(i_);
        if (c == '\n') {
            ++at_.line;
            at_.column = 1;
            ++i_;
            return;
        }
        if (c == '\r' && byte(i_ + 1) != '\n') fail("a carriage return (CR) that does not end a line: use LF or CR LF line breaks");
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) fail(control_message(c));
            ++i_;
            ++at_.column;
            return;
        }
        const auto code_point = decode();
        if (code_point < 0xa0 || code_point == 0x2028 || code_point == 0x2029) fail(control_message(code_point));
        if (code_point == 0xfeff) fail("a byte order mark (U+FEFF) is allowed only at the start of the file");
        ++at_.column;
    }

    static std::string control_message(char32_t code_point) {
        return fmt::format("control character U+{:04X} in the file (only tabs and line breaks are allowed; "
                           "write \\t or \\n in double quotes where a value needs one)",
                           static_cast<std::uint32_t>(code_point));
    }

    // One UTF-8 sequence from i_ (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
    char32_t decode() {
        const auto lead = byte(i_);
        int length = 0;
        unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
        if (lead >= 0xc2 && lead <= 0xdf) length = 2;
        else if (lead >= 0xe0 && lead <= 0xef) length = 3;
        else if (lead >= 0xf0 && lead <= 0xf4) length = 4;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
        if (length == 0 || byte(i_ + 1) < low || byte(i_ + 1) > high) invalid(lead);
        char32_t code_point = lead & (0xff >> (length + 1));
        for (int k = 1; k < length; ++k) {
            const auto next = byte(i_ + static_cast<std::size_t>(k));  // 0 past the end: a cut sequence
            if ((next & 0xc0) != 0x80) invalid(lead);
            code_point = (code_point << 6) | (next & 0x3f);
        }
        i_ += static_cast<std::size_t>(length);
        return code_point;
    }

    [[noreturn]] void invalid(unsigned char c) const {
        fail(fmt::format("invalid UTF-8 (byte 0x{:02x}): a scenario file is UTF-8 text", c));
    }

    const std::string& text_;
    const std::string& file_;
    std::size_t i_ = 0;
    Position at_;
};

// Walks the parsed tree once, every alias expanded, within max_depth and max_nodes: whatever
// reads the tree afterwards (the scenario readers, the emitter that keeps `expect:` as written)
// is bounded by the same walk.
class StructureCheck {
public:
    StructureCheck(const std::string& text, const std::string& file) : text_(text), file_(file) {}

    void visit(const YAML::Node& node, int depth) {
        if (++nodes_ > yaml_limits::max_nodes) {
            fail(node, fmt::format("the document expands to more than {} values (aliases repeat what their anchor holds)",
                                   yaml_limits::max_nodes));
        }
        if (depth > yaml_limits::max_depth) {
            fail(node, fmt::format("nesting deeper than {} levels (or an alias inside its own anchor)", yaml_limits::max_depth));
        }
        if (node.IsSequence()) {
            for (const auto& item : node) visit(item, depth + 1);
        } else if (node.IsMap()) {
            // yaml-cpp keeps every duplicate and lookups find the first: the second would be ignored.
            std::unordered_set<std::string> keys;
            for (auto it = node.begin(); it != node.end(); ++it) {
                check_key(it->first);
                if (!keys.insert(it->first.Scalar()).second) {
                    fail(it->first, fmt::format("duplicate key '{}' (each key may appear once in a mapping)", printable(it->first.Scalar())));
                }
                visit(it->second, depth + 1);
            }
        }
    }

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        const auto at = position_of(node.Mark(), text_);
        throw ScenarioError(file_, at.line, at.column, message);
    }

private:
    void check_key(const YAML::Node& key) const {
        if (key.IsScalar()) return;
        const char* what = key.IsSequence() ? "a list" : key.IsMap() ? "a mapping" : "empty";
        fail(key, fmt::format("a key must be a name, not {}", what));
    }

    const std::string& text_;
    const std::string& file_;
    std::size_t nodes_ = 0;
};

} // namespace

YAML::Node parse_yaml_document(const std::string& text, const std::string& file) {
    TextCheck(text, file).run();
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::DeepRecursion& e) {
        const auto at = deep_flow_position(text).value_or(position_of(e.mark, text));
        throw ScenarioError(file, at.line, at.column, fmt::format("nesting deeper than {} levels", yaml_limits::max_depth));
    } catch (const YAML::Exception& e) {
        const auto at = position_of(e.mark, text);
        throw ScenarioError(file, at.line, at.column, "YAML syntax: " + e.msg);
    }
    if (documents.empty()) throw ScenarioError(file, 1, 1, "the file is empty: a scenario is a mapping with name, target and workloads");
    StructureCheck structure(text, file);
    for (std::size_t i = 1; i < documents.size(); ++i) {
        // An empty document (a trailing "---") holds nothing to lose; anything else would be ignored.
        if (!documents[i].IsNull()) structure.fail(documents[i], "a scenario file holds one YAML document; a second one starts here");
    }
    structure.visit(documents.front(), 1);
    return documents.front();
}

} // namespace lastcall::harness
