#pragma once
// A fresh, empty directory per test: under the test temp dir, named after the running test (and an
// optional suffix), removed and recreated at each call.
#include <filesystem>
#include <string>

namespace lastcall::testing {

std::filesystem::path fresh_test_dir(const std::string& suffix = "");

} // namespace lastcall::testing
