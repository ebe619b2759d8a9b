#include "command_line.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace lastcall::harness {

namespace {

// "The following arguments were not expected: --frob x" -> {"--frob", "x"}.
std::vector<std::string> words_after_colon(const std::string& message) {
    std::vector<std::string> words;
    const auto colon = message.find(": ");
    if (colon == std::string::npos) return words;
    std::string word;
    for (const char ch : message.substr(colon + 2)) {
        if (ch != ' ') word += ch;
        else if (!word.empty()) words.push_back(std::move(word)), word.clear();
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

} // namespace

std::string usage_message(const CLI::ParseError& error) {
    const std::string message = error.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&error)) {
        // CLI11 lists them last first: the first on the command line is the one to name.
        const auto words = words_after_colon(message);
        if (!words.empty() && words.back().size() > 1 && words.back().front() == '-') return "unknown option " + words.back();
        if (!words.empty()) return "unexpected argument '" + words.back() + "'";
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) && message.find(" required ") != std::string::npos &&
        message.find(" missing") != std::string::npos) {
        return message.substr(0, message.find(':')) + " needs a value";  // "--seed: 1 required N missing"
    }
    return message;
}

bool parse_arguments(CLI::App& app, const std::vector<std::string>& arguments) {
    std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11 takes them last first
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        return false;
    } catch (const CLI::ParseError& e) {
        throw std::invalid_argument(usage_message(e));
    }
    return true;
}

void take_last_by_default(CLI::App& app) { app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); }

namespace {

class NeededUsage : public CLI::Formatter {
public:
    explicit NeededUsage(std::string needed) : needed_(std::move(needed)) {}
    std::string make_usage(const CLI::App* app, std::string name) const override {
        const bool options = !app->get_options([](const CLI::Option* o) { return o->nonpositional(); }).empty();
        return "Usage: " + name + (options ? " [OPTIONS]" : "") + " " + needed_ + "\n";
    }

private:
    std::string needed_;
};

} // namespace

void usage_needs(CLI::App& app, std::string needed) { app.formatter(std::make_shared<NeededUsage>(std::move(needed))); }

} // namespace lastcall::harness
