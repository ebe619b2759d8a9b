// `lastcall report RUN_DIR [--html F] [--json F] [--junit F]`: a run's reports re-rendered from its
// run directory (reports/run_record.hpp), nothing run or judged again. Without an option it
// rewrites RUN_DIR/report.html and RUN_DIR/report.json; with options, only the files they name
// (- is stdout). Exit 0 written, 2 the directory is not a run directory or a file in it is corrupt
// (which file, and what is wrong), or the command line is wrong.
#include "shared_options.hpp"

#include "reports.hpp"
#include "run_record.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace lastcall::cli {

namespace {

namespace fs = std::filesystem;

struct ReportArguments {
    std::string run_dir;
    std::string html, json, junit;
};

int report(ReportArguments a) {
    const int to_stdout = (a.html == "-") + (a.json == "-") + (a.junit == "-");
    if (to_stdout > 1) throw std::invalid_argument("only one report can go to stdout (-)");
    if (a.html.empty() && a.json.empty() && a.junit.empty()) {
        a.html = (fs::path(a.run_dir) / "report.html").string();
        a.json = (fs::path(a.run_dir) / "report.json").string();
    }
    try {
        const auto recorded = reports::read_run_directory(a.run_dir);
        for (const auto& note : recorded.notes) fmt::print(stderr, "lastcall report: note: {}\n", note);
        if (!a.html.empty()) write_output(a.html, reports::html_report(recorded.verdict));
        if (!a.json.empty()) write_output(a.json, reports::json_report(recorded.verdict));
        if (!a.junit.empty()) write_output(a.junit, reports::junit_report({recorded.verdict}));
        // What was written, on stderr (stdout may carry a report): a silent success reads as nothing done.
        for (const auto* file : {&a.html, &a.json, &a.junit}) {
            if (!file->empty() && *file != "-") fmt::print(stderr, "lastcall report: wrote {}\n", *file);
        }
    } catch (const reports::RunRecordError& e) {
        fmt::print(stderr, "lastcall report: {}\n", e.what());
        return 2;
    } catch (const std::runtime_error& e) {
        fmt::print(stderr, "lastcall report: {}\n", e.what());
        return 2;
    }
    return 0;
}

} // namespace

Command add_report_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("report", "re-render a run's report.html, report.json or junit.xml from its run directory");
    auto arguments = std::make_shared<ReportArguments>();
    command->add_option("RUN_DIR", arguments->run_dir, "a run directory (runs/<scenario>-<time>)")->required();
    command->add_option("--html", arguments->html, "write report.html here; - is stdout")->type_name("FILE");
    command->add_option("--json", arguments->json, "write report.json here; - is stdout")->type_name("FILE");
    command->add_option("--junit", arguments->junit, "write junit.xml (this run's testsuite) here; - is stdout")->type_name("FILE");
    command->footer("Without --html, --json or --junit: rewrites RUN_DIR/report.html and RUN_DIR/report.json.\n"
                    "Nothing is run or judged again: the verdicts are the run's own (RUN_DIR/verdict.json).\n"
                    "Exit codes: 0 written, 2 not a run directory, a corrupt file in it (named), or the command line is wrong.");
    return {command, [arguments] { return report(*arguments); }};
}

} // namespace lastcall::cli
