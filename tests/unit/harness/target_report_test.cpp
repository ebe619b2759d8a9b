// The target's shutdown report: parsed once into types without exceptions, and bound to the
// generation that wrote it (real files).
#include "target_report.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;
using State = TargetReportReading::State;

TEST(TargetReport, ParsesTheReferenceFormat) {
    const auto parsed = parse_target_report(R"({"version":1,"signal_at_unix_us":1795463866484000,"exit_code":4,
        "phases":[{"phase":"draining","start_ms":0.5,"end_ms":10,"outcome":"completed","detail":""}],
        "counts":{"streams_ended_by_shutdown":2},"abandoned_tasks":["stuck-1"],"resources":[],"total_ms":12.5})");
    ASSERT_TRUE(parsed.report) << parsed.error;
    EXPECT_EQ(parsed.report->signal_at_unix_us, 1795463866484000);
    EXPECT_EQ(parsed.report->exit_code, 4);
    ASSERT_NE(parsed.report->phase("draining"), nullptr);
    EXPECT_DOUBLE_EQ(parsed.report->phase("draining")->start_ms, 0.5);
    EXPECT_EQ(parsed.report->count("streams_ended_by_shutdown"), 2);
    EXPECT_EQ(parsed.report->count("absent"), 0);
    EXPECT_EQ(parsed.report->abandoned_tasks, std::vector<std::string>{"stuck-1"});
}

TEST(TargetReport, WrongTypesAreCorruptWithTheFieldNamed) {
    const std::pair<const char*, const char*> cases[] = {
        {"[1,2]", "not a JSON object"},
        {"{", "not valid JSON (or nested deeper than 64)"},
        {R"({"exit_code":"0"})", "exit_code is not a whole number"},
        {R"({"exit_code":1e300})", "exit_code is not a whole number"},
        {R"({"exit_code":99999999999})", "exit_code is not in range"},
        {R"({"signal_at_unix_us":18446744073709551615})", "signal_at_unix_us is not a whole number"},
        {R"({"phases":{}})", "phases is not a list"},
        {R"({"phases":[1]})", "phases[0] is not an object"},
        {R"({"phases":[{"phase":7}]})", "phases[0].phase is not a string"},
        {R"({"counts":{"x":1.5}})", "counts.x is not a whole number"},
        {R"({"abandoned_tasks":[null]})", "abandoned_tasks[] is not a string"},
    };
    for (const auto& [text, error] : cases) {
        const auto parsed = parse_target_report(text);
        EXPECT_FALSE(parsed.report) << text;
        EXPECT_EQ(parsed.error, error) << text;
    }
    // A report nested a million deep is refused before parsing (dump and compare recurse).
    const auto deep = parse_target_report(std::string(1'000'000, '[') + std::string(1'000'000, ']'));
    EXPECT_FALSE(deep.report);
    EXPECT_EQ(deep.error, "not valid JSON (or nested deeper than 64)");
}

class ReportFile : public ::testing::Test {
protected:
    ReportFile() {
        dir = fs::path(::testing::TempDir()) / ("lastcall-report-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~ReportFile() override { fs::remove_all(dir); }
    void write(const std::string& text) {
        const auto temp = dir / "report.tmp";
        std::ofstream(temp) << text;
        fs::rename(temp, source());  // as the reference server does: a new file each time
    }
    fs::path source() const { return dir / "shutdown-report.json"; }
    TargetReportReading read(const FileStamp& before, std::int64_t spawned, std::int64_t ended) {
        return read_target_report(source(), before, spawned, ended, dir / "copy.json");
    }
    fs::path dir;
};

TEST_F(ReportFile, AbsentWhenNothingWasWritten) {
    EXPECT_EQ(read(FileStamp::of(source()), 0, 10).state, State::absent);
}

// Item 7 of issue 7: a report left by an earlier run in a fixed state dir is not this run's.
TEST_F(ReportFile, LeftOverFromAnEarlierRunIsStale) {
    write(R"({"signal_at_unix_us":5000000})");
    const auto before = FileStamp::of(source());
    const auto reading = read(before, 10'000'000, 20'000'000);
    EXPECT_EQ(reading.state, State::stale);
    EXPECT_NE(reading.detail.find("not rewritten"), std::string::npos) << reading.detail;
    EXPECT_TRUE(fs::exists(dir / "copy.json")) << "kept as evidence";
}

TEST_F(ReportFile, RewrittenButForAnotherTimeIsStale) {
    const auto before = FileStamp::of(source());
    write(R"({"signal_at_unix_us":5000000})");  // a signal long before this generation started
    EXPECT_EQ(read(before, 10'000'000, 20'000'000).state, State::stale);
}

TEST_F(ReportFile, WrittenByThisGenerationIsOk) {
    write(R"({"signal_at_unix_us":1000})");
    const auto before = FileStamp::of(source());
    write(R"({"signal_at_unix_us":15000000,"exit_code":0})");
    const auto reading = read(before, 10'000'000, 20'000'000);
    ASSERT_EQ(reading.state, State::ok) << reading.detail;
    EXPECT_EQ(reading.report->signal_at_unix_us, 15'000'000);
}

TEST_F(ReportFile, CorruptAndDirectoryAreNamed) {
    const auto before = FileStamp::of(source());
    write("{\"phases\": [");
    auto reading = read(before, 0, 20'000'000);
    EXPECT_EQ(reading.state, State::corrupt);
    EXPECT_NE(reading.detail.find("not valid JSON"), std::string::npos);
    fs::remove(source());
    fs::create_directory(source());
    reading = read(before, 0, 20'000'000);
    EXPECT_EQ(reading.state, State::corrupt);
    EXPECT_NE(reading.detail.find("is a directory"), std::string::npos);
}

} // namespace
} // namespace lastcall::harness
