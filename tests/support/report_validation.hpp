#pragma once
// Validates lastcall's reports with the tools CI users have: report.json against
// reports/report.schema.json (JSON Schema 2020-12, python3-jsonschema), junit.xml against
// tests/support/junit.xsd (what GitLab and Jenkins read, xmllint). Both are Debian packages that
// scripts/setup installs: a missing tool fails the test rather than skipping it.
#include <filesystem>
#include <string>

namespace lastcall::testing {

struct Validation {
    bool valid = false;
    std::string output;  // what the validator said
};

Validation validate_report_json(const std::filesystem::path& report);
Validation validate_junit_xml(const std::filesystem::path& junit);

} // namespace lastcall::testing
