// lastcall: run scenarios against a target, check a server without a scenario, validate and list
// scenarios, benchmark a URL, or explore a scenario for failures nobody scripted. One file per
// subcommand (cli/*_command.cpp); what they share is in shared_options.hpp. Exit codes (docs/design.md):
// 0 fine, 1 a check failed, 2 the scenario or command line is wrong, 3 the target could not be
// started or never became ready (or, with --strict, a run was skipped), 130 interrupted; bench has
// its own (bench_options.cpp).
#include "shared_options.hpp"

#include "command_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <sys/prctl.h>

namespace {

using namespace lastcall::cli;

void on_interrupt(int) { interrupted = true; }  // only a flag: the run loop cleans up

constexpr const char* version = "lastcall 0.1.0";

std::string selected_name(const CLI::App& app) {
    const auto selected = app.get_subcommands();
    return selected.empty() ? std::string{} : selected.front()->get_name();
}

int usage_error(const CLI::App& app, const std::string& message) {
    const auto command = selected_name(app);
    if (command.empty()) fmt::print(stderr, "lastcall: {}\nRun 'lastcall --help' for the commands.\n", message);
    else fmt::print(stderr, "lastcall {}: {}\nRun 'lastcall {} --help' for its options.\n", command, message, command);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    // Orphans of the target are re-parented to lastcall, not to init: it can find and reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app("lastcall: proves that an HTTP service shuts down gracefully.", "lastcall");
    bool show_version = false;
    app.add_flag("--version", show_version, "print the version and exit");
    const std::vector<Command> commands{add_run_command(app), add_check_command(app), add_validate_command(app),
                                        add_list_command(app), add_bench_command(app), add_diff_command(app), add_explore_command(app),
                                        add_report_command(app)};
    app.require_subcommand(0, 1);
    app.footer("Each command has its own --help (lastcall run --help).\n"
               "Exit codes: 0 fine, 1 a check failed, 2 a scenario or the command line is wrong, 3 a target not started or\n"
               "not ready, 130 interrupted; bench has its own (lastcall bench --help).");

    std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty()) {  // a command is needed: say which there are, where a script's log shows it
        fmt::print(stderr, "{}", app.help());
        return 2;
    }
    if (words[0] == "help") words = {words.size() > 1 ? words[1] : "--help", "--help"};  // `lastcall help run`
    if (words[0] == "--help") words.resize(1);
    if (words[0] == "check") {  // its words are its own, untouched (check_command.cpp)
        try {
            return run_check({words.begin() + 1, words.end()});
        } catch (const std::invalid_argument& e) {
            fmt::print(stderr, "lastcall check: {}\nRun 'lastcall check --help' for its options.\n", e.what());
            return 2;
        }
    }
    const bool known = words[0].starts_with("-") || std::any_of(commands.begin(), commands.end(), [&](const Command& c) {
        return c.app->get_name() == words[0];
    });
    if (!known) {
        fmt::print(stderr, "lastcall: unknown command '{}' (commands: run, check, validate, list, bench, diff, explore, report)\nRun 'lastcall --help' for the commands.\n",
                   words[0]);
        return 2;
    }
    try {
        if (!lastcall::harness::parse_arguments(app, join_dash_values(words))) return fmt::print("{}", app.help()), 0;
    } catch (const std::invalid_argument& e) {
        return usage_error(app, e.what());
    }
    if (show_version) return fmt::print("{}\n", version), 0;
    for (const auto& command : commands) {
        if (!command.app->parsed()) continue;
        try {
            return command.run();
        } catch (const std::invalid_argument& e) {
            return usage_error(app, e.what());
        } catch (const std::out_of_range& e) {
            return usage_error(app, fmt::format("a number is out of range ({})", e.what()));
        }
    }
    fmt::print(stderr, "{}", app.help());  // options but no command (`lastcall --strict`)
    return 2;
}
