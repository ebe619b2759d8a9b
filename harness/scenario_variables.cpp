#include "scenario_variables.hpp"

#include "scenario_error.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <utility>

namespace lastcall::harness {

namespace {

bool is_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
    }
    return true;
}

const std::string* lookup(const std::string& name, const ScenarioVariables& variables, std::string& scratch) {
    if (const auto it = variables.values.find(name); it != variables.values.end()) return &it->second;
    if (!variables.environment) return nullptr;
    const char* value = std::getenv(name.c_str());
    if (!value) return nullptr;
    scratch = value;
    return &scratch;
}

class Substitution {
public:
    Substitution(const std::string& file, const ScenarioVariables& variables) : file_(file), variables_(variables) {}

    void visit(YAML::Node node) {
        if (node.IsScalar()) {
            // Aliases share their anchor's node, and so its mark: substitute each node once, or
            // `$${X}` would become `${X}` and then X's value.
            const auto mark = node.Mark();
            if (!done_.insert({mark.line, mark.column}).second) return;
            const auto& text = node.Scalar();
            if (text.find('$') == std::string::npos) return;
            try {
                node = expand_variables(text, variables_);
            } catch (const std::invalid_argument& e) {
                throw ScenarioError(file_, mark.line + 1, mark.column + 1, e.what());
            }
        } else if (node.IsSequence()) {
            for (auto item : node) visit(item);
        } else if (node.IsMap()) {
            for (auto it = node.begin(); it != node.end(); ++it) visit(it->second);
        }
    }

private:
    const std::string& file_;
    const ScenarioVariables& variables_;
    std::set<std::pair<int, int>> done_;
};

} // namespace

std::string expand_variables(const std::string& text, const ScenarioVariables& variables) {
    std::string out;
    std::string scratch;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || i + 1 >= text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
            out += text[i];
            continue;
        }
        if (text[i + 1] == '$') {  // $$: a literal $
            out += '$';
            ++i;
            continue;
        }
        const auto close = text.find('}', i + 2);
        if (close == std::string::npos) throw std::invalid_argument("unterminated ${ (write $$ for a literal $)");
        const std::string_view inside(text.data() + i + 2, close - i - 2);
        const auto dash = inside.find(":-");
        const std::string name(inside.substr(0, dash));
        if (!is_name(name)) {
            throw std::invalid_argument(fmt::format("'${{{}}}' is not a variable: a name is letters, digits and _, not starting with a digit "
                                                    "(${{NAME}} or ${{NAME:-default}}; $$ for a literal $)",
                                                    printable(inside)));
        }
        const auto* value = lookup(name, variables, scratch);
        if (dash != std::string_view::npos && (!value || value->empty())) out += inside.substr(dash + 2);
        else if (value) out += *value;
        else throw std::invalid_argument(fmt::format("variable {} is not set (set it in the environment, pass --var {}=VALUE, or write ${{{}:-default}})", name, name, name));
        i = close;
    }
    return out;
}

void substitute_variables(YAML::Node& root, const std::string& file, const ScenarioVariables& variables) {
    Substitution(file, variables).visit(root);
}

} // namespace lastcall::harness
