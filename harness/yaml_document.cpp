#include "yaml_document.hpp"

#include "scenario_error.hpp"
#include "text_rules.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <unordered_set>

namespace lastcall::harness {

namespace {

constexpr std::string_view utf8_bom = "\xef\xbb\xbf";

// Line and column from 1. Columns count bytes, as yaml-cpp's marks do for UTF-8 text, from after
// the byte order mark on the first line.
struct Position {
    int line = 1;
    int column = 1;
};

Position position_at(const std::string& text, std::size_t offset) {
    Position at;
    const std::size_t begin = text.starts_with(utf8_bom) ? utf8_bom.size() : 0;
    for (std::size_t i = begin; i < std::min(offset, text.size()); ++i) {
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            ++at.column;
        }
    }
    return at;
}

// Where line `index` (from 0) starts; the end of the text when there is no such line.
std::size_t line_start(const std::string& text, int index) {
    std::size_t start = text.starts_with(utf8_bom) ? utf8_bom.size() : 0;
    for (int line = 0; line < index && start < text.size(); ++line) start = std::min(text.find('\n', start), text.size()) + 1;
    return std::min(start, text.size());
}

// yaml-cpp marks count from 0. A mark it could not place (null) is put at the end of the text, one
// past the end of a line or of the text (an escape read past the end) at that end.
Position position_of(const YAML::Mark& mark, const std::string& text) {
    const auto end = position_at(text, text.size());
    if (mark.line < 0 || mark.column < 0 || mark.line + 1 > end.line) return end;
    const auto start = line_start(text, mark.line);
    const auto line_length = std::min(text.find('\n', start), text.size()) - start;
    return {mark.line + 1, static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(mark.column), line_length)) + 1};
}

// yaml-cpp's message, on one line: it names its end-of-input sentinel (0x04) as a character.
std::string yaml_message(const std::string& message) {
    std::string out;
    for (const char c : message) out += c == '\x04' ? std::string("end of file") : printable(std::string_view(&c, 1));
    return "YAML syntax: " + out;
}

// yaml-cpp's depth guard marks where its scanner stopped, often the end of the text. Where flow
// brackets did it, the bracket that passes max_depth is the better place to point at (quoted
// brackets are counted too: this only places the error, it decides nothing).
std::optional<Position> deep_flow_position(const std::string& text) {
    int depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '[' || text[i] == '{') {
            if (++depth > yaml_limits::max_depth) return position_at(text, i);
        } else if ((text[i] == ']' || text[i] == '}') && depth > 0) {
            --depth;
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
            // Over, not its size: a file is read only up to one byte past the limit (a new user's
            // 200 MB file was said to be 1048577 bytes).
            fail(fmt::format("the file is over {} bytes, the most a scenario file may be", yaml_limits::max_file_bytes));
        }
        if (text_.starts_with(utf8_bom)) i_ = utf8_bom.size();
        while (i_ < text_.size()) step();
    }

private:
    // At the byte or sequence that starts at i_.
    [[noreturn]] void fail(const std::string& message) const {
        const auto at = position_at(text_, i_);
        throw ScenarioError(file_, at.line, at.column, message);
    }

    unsigned char byte(std::size_t index) const { return index < text_.size() ? static_cast<unsigned char>(text_[index]) : 0; }

    void step() {
        const auto c = byte(i_);
        if (c == '\r' && byte(i_ + 1) != '\n') fail("a carriage return (CR) that does not end a line: use LF or CR LF line breaks");
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) fail(control_message(c));
            ++i_;
            return;
        }
        const auto [code_point, length] = decode();
        if (code_point < 0xa0 || code_point == 0x2028 || code_point == 0x2029) fail(control_message(code_point));
        if (code_point == 0xfeff) fail("a byte order mark (U+FEFF) is allowed only at the start of the file");
        i_ += length;
    }

    static std::string control_message(char32_t code_point) {
        return fmt::format("control character U+{:04X} in the file (only tabs and line breaks are allowed; "
                           "write \\t or \\n in double quotes where a value needs one)",
                           static_cast<std::uint32_t>(code_point));
    }

    // The UTF-8 sequence at i_ and its length (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
    std::pair<char32_t, std::size_t> decode() const {
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
        return {code_point, static_cast<std::size_t>(length)};
    }

    [[noreturn]] void invalid(unsigned char c) const {
        fail(fmt::format("invalid UTF-8 (byte 0x{:02x}): a scenario file is UTF-8 text", c));
    }

    const std::string& text_;
    const std::string& file_;
    std::size_t i_ = 0;
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

// yaml-cpp's LoadAll never returns on a ',' outside brackets: the parser does not consume it, and
// each call makes one more empty document (the fuzz test's ",\n" took 10 GB in a minute). Load
// reads the first document and silently drops the rest ("- a\n,\n" loads as [a]). So the
// documents are walked here through the event parser, one at a time: the first is the scenario;
// after it only empty documents that start with "---" are allowed. One that starts anywhere else
// is a token the parser could not place, and the walk stops there.
class DocumentCheck : public YAML::EventHandler {
public:
    DocumentCheck(const std::string& text, const std::string& file) : text_(text), file_(file) {}

    void run() {
        std::istringstream in(text_);
        YAML::Parser parser(in);
        std::size_t previous_offset = 0;
        for (int document = 1; parser.HandleNextDocument(*this); ++document) {
            const auto offset = offset_of(start_);
            if (document == 1) {
                previous_offset = offset;
                continue;
            }
            // Where the previous document started: the parser made no progress (it never will).
            const bool stuck = offset == previous_offset;
            previous_offset = offset;
            if (stuck || text_.compare(offset, 3, "---") != 0) {
                const auto token = offset < text_.size() ? printable(text_.substr(offset, 1)) : "end of file";
                fail(start_, fmt::format("YAML syntax: unexpected '{}' (a ',' belongs inside [ ] or {{ }})", token));
            }
            // An empty trailing document holds nothing to lose; anything else would be ignored.
            if (has_content_) fail(start_, "a scenario file holds one YAML document; a second one starts here");
        }
        if (!seen_document_) throw ScenarioError(file_, 1, 1, "the file is empty: a scenario is a mapping with name, target and workloads");
    }

    void OnDocumentStart(const YAML::Mark& mark) override {
        start_ = mark;
        has_content_ = false;
        seen_document_ = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override { has_content_ = true; }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { has_content_ = true; }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { has_content_ = true; }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { has_content_ = true; }
    void OnMapEnd() override {}

private:
    [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
        const auto at = position_of(mark, text_);
        throw ScenarioError(file_, at.line, at.column, message);
    }

    // The byte offset of a mark; past the end when it is not in the text.
    std::size_t offset_of(const YAML::Mark& mark) const {
        if (mark.line < 0 || mark.column < 0) return text_.size();
        return std::min(line_start(text_, mark.line) + static_cast<std::size_t>(mark.column), text_.size());
    }

    const std::string& text_;
    const std::string& file_;
    YAML::Mark start_;
    bool has_content_ = false;
    bool seen_document_ = false;
};

} // namespace

YAML::Node parse_yaml_document(const std::string& text, const std::string& file) {
    TextCheck(text, file).run();
    YAML::Node root;
    try {
        DocumentCheck(text, file).run();
        root = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
        const auto at = deep_flow_position(text).value_or(position_of(e.mark, text));
        throw ScenarioError(file, at.line, at.column, fmt::format("nesting deeper than {} levels", yaml_limits::max_depth));
    } catch (const YAML::Exception& e) {
        const auto at = position_of(e.mark, text);
        throw ScenarioError(file, at.line, at.column, yaml_message(e.msg));
    }
    StructureCheck(text, file).visit(root, 1);
    return root;
}

} // namespace lastcall::harness
