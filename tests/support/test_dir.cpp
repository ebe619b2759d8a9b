#include "test_dir.hpp"

#include <gtest/gtest.h>

namespace lastcall::testing {

std::filesystem::path fresh_test_dir(const std::string& suffix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name() + suffix;
    for (auto& c : name) {
        if (c == '/') c = '_';
    }
    const auto dir = std::filesystem::path(::testing::TempDir()) / "lastcall-tests" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

} // namespace lastcall::testing
