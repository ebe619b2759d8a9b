// Failures group by shape: the same check failing the same way in different workloads, moments
// and counts is one kind; another outcome is another.
#include "explore/trial_judge.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness::explore {
namespace {

CheckResult dropped(std::vector<std::string> evidence, const std::string& message = "2 requests were dropped") {
    return CheckResult{"dropped", "<= 0", "2", CheckStatus::fail, message, std::move(evidence)};
}

TEST(EvidenceShape, IgnoresWhichRequestAndWhenButNotHowItEnded) {
    const auto a = dropped({"#256 slow conn 1 reuse 0: intended 0.001s sent 0.001s first byte - done 0.102s, status 0 -> dropped (eof_before_response)"});
    const auto b = dropped({"#12 fast conn 3 reuse 7: intended 1.201s sent 1.201s first byte - done 1.305s, status 0 -> dropped (eof_before_response)",
                            "#13 slow conn 4 reuse 0: intended 1.101s sent 1.101s first byte - done 1.305s, status 0 -> dropped (eof_before_response)",
                            "... and 15 more"},
                           "17 requests were dropped");
    const auto c = dropped({"#256 sse conn 1 reuse 0: intended 0.002s sent 0.002s first byte 0.003s done 0.102s, status 200 -> dropped (truncated_stream), 5 events"});
    EXPECT_EQ(evidence_shape(a), evidence_shape(b));
    EXPECT_NE(evidence_shape(a), evidence_shape(c));
    EXPECT_EQ(evidence_shape(a), "dropped: # requests were dropped | dropped (eof_before_response)");
}

TEST(EvidenceShape, OtherEvidenceCountsAsWrittenWithNumbersBlanked) {
    const CheckResult exit{"exit", "exit 0", "killed by SIGTERM", CheckStatus::fail, "expected exit 0, saw killed by SIGTERM", {}};
    EXPECT_EQ(evidence_shape(exit), "exit: expected exit #, saw killed by SIGTERM");
    const CheckResult fds{"fd_leak", "16", "40", CheckStatus::fail, "40 fds over the baseline", {"pid 4242: 57 open at 1.25s"}};
    EXPECT_EQ(evidence_shape(fds), "fd_leak: # fds over the baseline | pid #: # open at #s");
}

} // namespace
} // namespace lastcall::harness::explore
