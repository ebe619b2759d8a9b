// `lastcall diff A B`: two runs' checks and latencies side by side, from their report.json (a run
// directory or the file). Exit 0 when no check changed verdict (pass <-> fail), 1 when one did, 2
// when the command line is wrong or a report cannot be read or compared (which file, and why), 3
// when A or B did not run (a setup error, or a run skipped: it has no verdicts, and a CI gate on
// diff must not pass it as "no check changed verdict"). A check judged in one run only (skipped in
// the other, where it did not apply) is shown apart: it is neither a regression nor a fix.
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
        if (d.either_did_not_run()) return 3;  // as `lastcall run` of a run that could not run: nothing was compared
        return d.verdict_changed() ? 1 : 0;
    } catch (const reports::ReportError& e) {
        fmt::print(stderr, "lastcall diff: {}\n", e.what());
        return 2;
    }
}

} // namespace

Command add_diff_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("diff", "compare two runs' checks and latencies; exit 0 when no verdict changed, 1 when one did (pass <-> fail), 3 when A or B did not run");
    auto arguments = std::make_shared<DiffArguments>();
    command->add_option("A", arguments->a, "a run directory, or its report.json")->required();
    command->add_option("B", arguments->b, "the run to compare with A")->required();
    command->footer("A check skipped in one run (it did not apply there) or absent from one report is marked `one run only`\n"
                    "and is not a verdict change. `info` is a check without a bound (it only measures). B's change in % is\n"
                    "shown for durations and counts, not for an exit status or an fd growth.\n"
                    "Exit codes: 0 no check changed verdict, 1 a check went from pass to fail or fail to pass (marked changed),\n"
                    "2 the command line is wrong or a report could not be read, 3 A or B did not run (a setup error: `lastcall run`\n"
                    "exited 3; or a run skipped): it has no verdicts, said above the table with why.");
    return {command, [arguments] { return diff(*arguments); }};
}

} // namespace lastcall::cli
