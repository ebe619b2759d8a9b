// The kernel's process events: decoding netlink datagrams by hand-built bytes (malformed ones
// skipped), and the real connector reporting the exit status of a child this test forks.
#include "proc_connector.hpp"

#include <gtest/gtest.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace lastcall::harness {
namespace {

std::vector<std::uint8_t> exit_datagram(pid_t pid, pid_t tgid, std::uint32_t status, std::uint64_t ns) {
    std::vector<std::uint8_t> bytes(NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event)));
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(bytes.size());
    header.nlmsg_type = NLMSG_DONE;
    cn_msg message{};
    message.id = {CN_IDX_PROC, CN_VAL_PROC};
    message.len = sizeof(proc_event);
    proc_event event{};
    event.what = proc_event::PROC_EVENT_EXIT;
    event.timestamp_ns = ns;
    event.event_data.exit.process_pid = pid;
    event.event_data.exit.process_tgid = tgid;
    event.event_data.exit.exit_code = status;
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + NLMSG_HDRLEN, &message, sizeof message);
    std::memcpy(bytes.data() + NLMSG_HDRLEN + sizeof message, &event, sizeof event);
    return bytes;
}

TEST(ProcConnector, DecodesTheExitOfAProcessNotOfAThread) {
    auto bytes = exit_datagram(42, 42, 3 << 8, 5'000'000'000);
    const auto thread = exit_datagram(43, 42, 0, 5'000'000'001);
    bytes.insert(bytes.end(), thread.begin(), thread.end());
    const auto exits = decode_proc_exits(bytes.data(), bytes.size());
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_EQ(exits[0].pid, 42);
    EXPECT_EQ(exits[0].wait_status, 3 << 8);
    EXPECT_EQ(exits[0].when.time_since_epoch(), std::chrono::seconds(5));
}

TEST(ProcConnector, SkipsTruncatedAndMalformedDatagrams) {
    const auto bytes = exit_datagram(42, 42, 0, 1);
    for (std::size_t size = 0; size < bytes.size(); ++size) EXPECT_TRUE(decode_proc_exits(bytes.data(), size).empty()) << size;
    auto lying = bytes;
    lying[0] = 0xff;  // a length past the datagram
    EXPECT_TRUE(decode_proc_exits(lying.data(), lying.size()).empty());
}

TEST(ProcConnector, TellsTheExitStatusOfARealProcess) {
    std::string why;
    const auto connector = ProcConnector::open(&why);
    if (!connector) GTEST_SKIP() << "the kernel will not tell here: " << why;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(7);
    int status = 0;
    ::waitpid(child, &status, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& e : connector->exits()) {
            if (e.pid != child) continue;
            EXPECT_TRUE(WIFEXITED(e.wait_status));
            EXPECT_EQ(WEXITSTATUS(e.wait_status), 7);
            EXPECT_LE(e.when, std::chrono::steady_clock::now());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "no exit event for pid " << child;
}

} // namespace
} // namespace lastcall::harness
