// The checkpointer on real files with real fsync. A crash is simulated by throwing from the step
// hook, which leaves the files exactly as a kill at that point would.
#include "lastcall/coordinator/checkpointer.hpp"

#include "test_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace lastcall::coordinator {
namespace {

namespace fs = std::filesystem;

struct SimulatedCrash {};

class CheckpointerTest : public ::testing::Test {
protected:
    void SetUp() override { dir_ = testing::fresh_test_dir(); }
    fs::path file() const { return dir_ / "checkpoint.dat"; }
    static std::string read(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    static void overwrite(const fs::path& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    }
    fs::path dir_;
};

TEST_F(CheckpointerTest, FirstStartHasNoCheckpoint) {
    EXPECT_FALSE(Checkpointer(file()).load(Checkpointer::Fallback::refuse));
}

TEST_F(CheckpointerTest, RoundTripKeepsThePreviousGeneration) {
    Checkpointer writer(file());
    EXPECT_EQ(writer.write("one").generation, 1u);
    EXPECT_EQ(writer.write("two").generation, 2u);
    const auto loaded = Checkpointer(file()).load(Checkpointer::Fallback::refuse);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->payload, "two");
    EXPECT_EQ(loaded->generation, 2u);
    EXPECT_EQ(Checkpointer::decode(read(writer.previous_file()), writer.previous_file()).payload, "one");
}

TEST_F(CheckpointerTest, GenerationContinuesAfterARestart) {
    Checkpointer(file()).write("one");
    Checkpointer restarted(file());
    restarted.load(Checkpointer::Fallback::refuse);
    EXPECT_EQ(restarted.write("two").generation, 2u);
}

// A kill at any point of a write leaves the old or the new state, complete, never a mix or nothing.
TEST_F(CheckpointerTest, CrashAtEveryStepLeavesOldOrNewState) {
    using Step = Checkpointer::Step;
    for (const auto crash_at : {Step::temp_written, Step::temp_synced, Step::previous_kept, Step::renamed,
                                Step::directory_synced}) {
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        Checkpointer(file()).write("old state");
        Checkpointer writer(file());
        writer.load(Checkpointer::Fallback::refuse);
        writer.on_step([crash_at](Step s) {
            if (s == crash_at) throw SimulatedCrash{};
        });
        EXPECT_THROW(writer.write("new state"), SimulatedCrash);

        const auto loaded = Checkpointer(file()).load(Checkpointer::Fallback::refuse);
        ASSERT_TRUE(loaded) << "nothing loadable after a crash at step " << static_cast<int>(crash_at);
        const bool renamed = crash_at >= Step::renamed;
        EXPECT_EQ(loaded->payload, renamed ? "new state" : "old state") << "step " << static_cast<int>(crash_at);
    }
}

TEST_F(CheckpointerTest, CorruptCheckpointIsRefusedAndLeftInPlace) {
    Checkpointer(file()).write("counter 41\n");
    Checkpointer(file()).write("counter 42\n");
    auto bytes = read(file());
    bytes.back() = '3';  // one flipped byte in the payload
    overwrite(file(), bytes);
    try {
        Checkpointer(file()).load(Checkpointer::Fallback::refuse);
        FAIL() << "a corrupt checkpoint was accepted";
    } catch (const CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
        EXPECT_NE(message.find("crc32"), std::string::npos) << message;
        EXPECT_NE(message.find("refusing to start"), std::string::npos) << message;
    }
    EXPECT_EQ(read(file()), bytes);  // never silently replaced
}

TEST_F(CheckpointerTest, FallbackLoadsThePreviousGenerationOnlyWhenAsked) {
    Checkpointer(file()).write("counter 41\n");
    Checkpointer(file()).write("counter 42\n");
    overwrite(file(), "LASTCALL-CHECKPOINT 1\ngeneration 2\nbytes 11\ncrc32 0000");  // torn header
    EXPECT_THROW(Checkpointer(file()).load(Checkpointer::Fallback::refuse), CheckpointError);
    const auto loaded = Checkpointer(file()).load(Checkpointer::Fallback::previous);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->payload, "counter 41\n");
    EXPECT_EQ(loaded->from, Checkpointer(file()).previous_file());
}

TEST_F(CheckpointerTest, TruncatedPayloadIsRefused) {
    Checkpointer(file()).write("a longer payload");
    auto bytes = read(file());
    bytes.resize(bytes.size() - 4);
    overwrite(file(), bytes);
    EXPECT_THROW(Checkpointer(file()).load(Checkpointer::Fallback::refuse), CheckpointError);
}

TEST_F(CheckpointerTest, MissingCurrentGenerationWithAPreviousOneIsRefused) {
    Checkpointer(file()).write("one");
    Checkpointer(file()).write("two");
    fs::remove(file());
    EXPECT_THROW(Checkpointer(file()).load(Checkpointer::Fallback::refuse), CheckpointError);
    EXPECT_EQ(Checkpointer(file()).load(Checkpointer::Fallback::previous)->payload, "one");
}

// After a fallback the next write used to hard-link the corrupt file into `.prev`, destroying the
// only good generation, and to reuse the corrupt file's generation number.
TEST_F(CheckpointerTest, WriteAfterAFallbackKeepsTheGoodGenerationAndANewNumber) {
    Checkpointer(file()).write("counter 41\n");
    Checkpointer(file()).write("counter 42\n");
    auto corrupt = read(file());
    corrupt.back() = '3';
    overwrite(file(), corrupt);

    Checkpointer writer(file());
    const auto loaded = writer.load(Checkpointer::Fallback::previous);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->payload, "counter 41\n");
    EXPECT_NE(loaded->refused.find("is corrupt"), std::string::npos) << loaded->refused;
    const auto written = writer.write("counter 43\n");
    EXPECT_EQ(written.generation, 3u) << "generation 2 is the corrupt file's; never reuse it";

    const auto previous = Checkpointer::decode(read(writer.previous_file()), writer.previous_file());
    EXPECT_EQ(previous.payload, "counter 41\n") << "the good generation must stay in .prev";
    EXPECT_EQ(read(writer.corrupt_file()), corrupt) << "the corrupt file is set aside, not destroyed";
    EXPECT_EQ(Checkpointer(file()).load(Checkpointer::Fallback::refuse)->payload, "counter 43\n");

    // The write after that one is ordinary again: the current generation becomes .prev.
    EXPECT_EQ(writer.write("counter 44\n").generation, 4u);
    EXPECT_EQ(Checkpointer::decode(read(writer.previous_file()), writer.previous_file()).payload, "counter 43\n");
}

// Version 1 checksummed the payload only: an edited generation number was accepted.
TEST_F(CheckpointerTest, GenerationIsCoveredByTheChecksum) {
    Checkpointer(file()).write("counter 1\n");
    auto bytes = read(file());
    const auto at = bytes.find("generation 1");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 12, "generation 7");
    overwrite(file(), bytes);
    EXPECT_THROW(Checkpointer(file()).load(Checkpointer::Fallback::refuse), CheckpointError);
}

TEST_F(CheckpointerTest, VersionOneFilesAreStillRead) {
    overwrite(file(), "LASTCALL-CHECKPOINT 1\ngeneration 4\nbytes 11\ncrc32 5bdde6c0\n\ncounter 99\n");
    const auto loaded = Checkpointer(file()).load(Checkpointer::Fallback::refuse);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->payload, "counter 99\n");
    EXPECT_EQ(loaded->generation, 4u);
}

// A right checksum over content the application refuses is refused like any corruption: named,
// and open to the fallback.
TEST_F(CheckpointerTest, RefusedPayloadNamesTheFileAndTheFallbackApplies) {
    const auto must_be_a_counter = [](const std::string& payload) {
        if (payload.rfind("counter ", 0) != 0) throw std::runtime_error("not a counter");
    };
    Checkpointer(file()).write("counter 41\n");
    Checkpointer(file()).write("garbage");
    try {
        Checkpointer(file()).load(Checkpointer::Fallback::refuse, must_be_a_counter);
        FAIL() << "a refused payload was accepted";
    } catch (const CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(file().string()), std::string::npos) << message;
        EXPECT_NE(message.find("not a counter"), std::string::npos) << message;
    }
    const auto loaded = Checkpointer(file()).load(Checkpointer::Fallback::previous, must_be_a_counter);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->payload, "counter 41\n");
}

// A directory where the checkpoint goes could never be replaced at shutdown: refused at start,
// fallback or not (it used to be called "corrupt", and the fallback then served and lost writes).
TEST_F(CheckpointerTest, DirectoryInPlaceOfTheCheckpointIsRefusedEvenWithTheFallback) {
    Checkpointer(file()).write("counter 41\n");
    fs::rename(file(), Checkpointer(file()).previous_file());
    fs::create_directories(file());
    for (const auto fallback : {Checkpointer::Fallback::refuse, Checkpointer::Fallback::previous}) {
        try {
            Checkpointer(file()).load(fallback);
            FAIL() << "a directory in place of the checkpoint was accepted";
        } catch (const CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
        }
    }
    fs::remove(file());
    fs::create_directories(Checkpointer(file()).temp_file());
    EXPECT_THROW(Checkpointer(file()).check_writable(), CheckpointError);
}

TEST_F(CheckpointerTest, WriteIntoAMissingDirectoryFailsLoudly) {
    Checkpointer writer(dir_ / "no-such-dir" / "checkpoint.dat");
    EXPECT_THROW(writer.write("x"), CheckpointError);
}

} // namespace
} // namespace lastcall::coordinator
