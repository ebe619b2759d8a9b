#pragma once
// Signal names, in one place: what scenarios, the CLI and every report write. Any signal the
// kernel knows is accepted by name (TERM, SIGTERM, term, WINCH, PWR, RTMIN+3, RTMAX-1) or number.
#include <optional>
#include <string>
#include <string_view>

namespace lastcall::harness {

// nullopt when `text` names no signal.
std::optional<int> parse_signal(std::string_view text);
// "SIGTERM", "SIGRTMIN+3"; the number as text when the signal has no name.
std::string signal_name(int signal);

} // namespace lastcall::harness
