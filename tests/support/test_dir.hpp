#pragma once
// A fresh, empty directory per test: under the test temp dir, named after the running test (and an
// optional suffix), removed and recreated at each call.
#include <filesystem>
#include <string>

namespace lastcall::testing {

// The root of every test's directory: under the test temp dir, named after the build the test binary
// belongs to, so two clones' suites running at once on one machine never share (and remove) a
// directory.
std::filesystem::path test_root();

std::filesystem::path fresh_test_dir(const std::string& suffix = "");

} // namespace lastcall::testing
