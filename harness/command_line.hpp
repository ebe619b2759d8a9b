#pragma once
// What lastcall's commands share about CLI11 (Debian's libcli11-dev, header-only): the parse of a
// list of words and CLI11's errors in lastcall's words ("--seed needs a value", "unknown option
// --frob"). CLI11 itself is included by the .cpp files that build commands, not by this header.
#include <string>
#include <vector>

namespace CLI {
class App;
class ParseError;
} // namespace CLI

namespace lastcall::harness {

// CLI11's error as one line for the user: which option, what was wrong.
std::string usage_message(const CLI::ParseError& error);

// Parses `arguments` (no program name, in order). Returns false when help was asked for; any other
// error is a std::invalid_argument with usage_message's text.
bool parse_arguments(CLI::App& app, const std::vector<std::string>& arguments);

// Options that take one value each time they are given, the last one winning, as the hand-written
// parsers did (wrk, curl): CLI11's default for a repeated option is an error.
void take_last_by_default(CLI::App& app);

// The help's usage line says what the command needs after its options ("SCENARIO_OR_DIR...",
// "-- COMMAND ARGS..."): CLI11 shows a positional it does not itself require in brackets, as
// optional, where lastcall checks it and says what is missing in its own words.
void usage_needs(CLI::App& app, std::string needed);

} // namespace lastcall::harness
