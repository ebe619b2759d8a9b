// `lastcall diff A B`: two runs' checks and latencies side by side, from their report.json (a run
// directory or the file). Exit 0 when no check changed verdict, 1 when one did, 2 when a report
// cannot be read or compared (which file, and why).
#include "shared_options.hpp"

#include "run_diff.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

namespace lastcall::cli {

namespace {

struct DiffArguments {
    std::string a, b;
};

int diff(const DiffArguments& arguments) {
    try {
        const auto d = reports::diff_runs(arguments.a, arguments.b);
        fmt::print("{}", reports::diff_table(d));
        return d.verdict_changed() ? 1 : 0;
    } catch (const reports::ReportError& e) {
        fmt::print(stderr, "lastcall diff: {}\n", e.what());
        return 2;
    }
}

} // namespace

Command add_diff_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("diff", "compare two runs' checks and latencies; exit 0 when no verdict changed, 1 when one did");
    auto arguments = std::make_shared<DiffArguments>();
    command->add_option("A", arguments->a, "a run directory, or its report.json")->required();
    command->add_option("B", arguments->b, "the run to compare with A")->required();
    command->footer("Exit codes: 0 no check changed verdict, 1 a check did (it says changed), 2 a report could not be read\n"
                    "or the command line is wrong.");
    return {command, [arguments] { return diff(*arguments); }};
}

} // namespace lastcall::cli
