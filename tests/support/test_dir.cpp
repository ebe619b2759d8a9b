#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace lastcall::testing {

std::filesystem::path test_root() {
    std::error_code ec;
    const auto build = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
    const auto tag = std::hash<std::string>{}(build) % 0xFFFFFFu;
    return std::filesystem::path(::testing::TempDir()) / ("lastcall-tests-" + std::to_string(tag));
}

std::filesystem::path fresh_test_dir(const std::string& suffix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name() + suffix;
    for (auto& c : name) {
        if (c == '/') c = '_';
    }
    const auto dir = test_root() / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

} // namespace lastcall::testing
