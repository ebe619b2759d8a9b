// The run directory stays inside its root and never replaces what lastcall did not make.
#include "run_directory.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;

class RunDirectoryTest : public ::testing::Test {
protected:
    RunDirectoryTest() {
        root = fs::path(::testing::TempDir()) / ("lastcall-rundir-" + std::to_string(::getpid()));
        fs::remove_all(root);
    }
    ~RunDirectoryTest() override { fs::remove_all(root.parent_path() / ("lastcall-rundir-" + std::to_string(::getpid()))); }
    fs::path root;
};

// Item 12 of issue 7: `name: ../outside` put the run directory outside --run-dir (and removed it first).
TEST_F(RunDirectoryTest, NamesThatLeaveTheRootAreRefused) {
    for (const auto* name : {"../outside", "..", ".", "", "a/b", "/abs"}) {
        EXPECT_THROW(RunDirectory::create(root, true, name, 0, 1), RunDirectoryError) << name;
        EXPECT_THROW(RunDirectory::create(root, false, name, 0, 1), RunDirectoryError) << name;
    }
    EXPECT_FALSE(fs::exists(root.parent_path() / "outside"));
}

TEST_F(RunDirectoryTest, ExactDirectoryReplacesOnlyAnEarlierRun) {
    const auto first = RunDirectory::create(root, true, "s", 0, 1);
    std::ofstream(first.path() / "history.jsonl") << "old\n";
    const auto second = RunDirectory::create(root, true, "s", 0, 1);
    EXPECT_EQ(first.path(), second.path());
    EXPECT_FALSE(fs::exists(second.path() / "history.jsonl")) << "the earlier run was replaced";
    fs::create_directories(root / "mine");
    std::ofstream(root / "mine" / "precious.txt") << "keep me\n";
    EXPECT_THROW(RunDirectory::create(root, true, "mine", 0, 1), RunDirectoryError);
    EXPECT_TRUE(fs::exists(root / "mine" / "precious.txt"));
}

TEST_F(RunDirectoryTest, TimestampedDirectoriesNeverCollide) {
    const auto a = RunDirectory::create(root, false, "s", 0, 1);
    const auto b = RunDirectory::create(root, false, "s", 0, 1);  // the same second
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(fs::is_directory(a.workdir()));
    EXPECT_TRUE(fs::is_directory(b.workdir()));
    const auto r2 = RunDirectory::create(root, false, "s", 1, 3);
    EXPECT_NE(r2.path().filename().string().find("-r2"), std::string::npos) << r2.path();
}

TEST_F(RunDirectoryTest, ArtifactsPerGeneration) {
    const auto dir = RunDirectory::create(root, true, "s", 0, 1);
    EXPECT_EQ(dir.target_stdout(2).filename(), "target-2.stdout");
    EXPECT_EQ(dir.target_stderr(1).filename(), "target-1.stderr");
    EXPECT_EQ(dir.shutdown_report(3).filename(), "shutdown-report-3.json");
}

} // namespace
} // namespace lastcall::harness
