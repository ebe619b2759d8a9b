#include "report_validation.hpp"

#include "child_process.hpp"

#include <chrono>
#include <fstream>
#include <iterator>

namespace lastcall::testing {

namespace {

namespace fs = std::filesystem;

Validation run_validator(const std::vector<std::string>& argv, const fs::path& scratch) {
    Validation v;
    ChildProcess tool(argv, scratch);
    while (const auto line = tool.read_line(std::chrono::seconds(30))) v.output += *line + "\n";
    const auto status = tool.wait(std::chrono::seconds(30));
    std::ifstream err(scratch);
    v.output += std::string(std::istreambuf_iterator<char>(err), {});
    v.valid = status && status->clean();
    if (!status) v.output += "(the validator did not finish)\n";
    return v;
}

// Every error, not only the first, with where in the document it is; under oneOf (a run's report
// or the suite's) the errors of each branch, which say what is actually wrong.
constexpr const char* json_schema_check = R"py(import json, sys
import jsonschema
def leaves(e):
    if not e.context: yield e
    for c in e.context: yield from leaves(c)
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    for leaf in leaves(e): print("/".join(str(p) for p in leaf.absolute_path) or "(root)", ":", leaf.message)
sys.exit(1 if errors else 0)
)py";

} // namespace

// /usr/bin/python3: Debian's, with python3-jsonschema; a python3 of a user's own earlier in PATH may lack it.
Validation validate_report_json(const fs::path& report) {
    return run_validator({"/usr/bin/python3", "-c", json_schema_check, LASTCALL_REPORT_SCHEMA, report.string()},
                         fs::path(report.string() + ".validation"));
}

Validation validate_junit_xml(const fs::path& junit) {
    return run_validator({"/usr/bin/xmllint", "--noout", "--schema", LASTCALL_JUNIT_XSD, junit.string()}, fs::path(junit.string() + ".validation"));
}

} // namespace lastcall::testing
