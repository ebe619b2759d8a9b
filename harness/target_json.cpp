#include "target_json.hpp"

namespace lastcall::harness {

namespace {

// The deepest nesting of [ and { outside strings: a scan, no recursion.
bool nesting_within(std::string_view text, int bound) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > bound) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

} // namespace

nlohmann::json parse_target_json(std::string_view text) {
    if (!nesting_within(text, max_target_json_depth)) return nlohmann::json(nlohmann::json::value_t::discarded);
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

const nlohmann::json* json_at(const nlohmann::json& doc, const nlohmann::json::json_pointer& pointer) {
    try {
        return doc.contains(pointer) ? &doc.at(pointer) : nullptr;
    } catch (const nlohmann::json::exception&) {  // a pointer that cannot apply to this document's shape
        return nullptr;
    }
}

std::string json_text(const nlohmann::json& value) { return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

} // namespace lastcall::harness
