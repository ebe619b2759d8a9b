// report.html's parts on hand-made runs, asserted on the HTML text: a lane per workload with its
// name and its outcomes over time.
#include "reports.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace lastcall::reports {
namespace {

using harness::Outcome;

harness::RequestRecord request(std::uint64_t id, std::uint16_t workload, std::int64_t sent_us, std::int64_t done_us, Outcome outcome) {
    harness::RequestRecord r;
    r.id = id;
    r.workload = workload;
    r.intended_us = r.sent_us = sent_us;
    r.first_byte_us = outcome == Outcome::ok ? sent_us + 100 : -1;
    r.done_us = done_us;
    r.outcome = outcome;
    r.status = outcome == Outcome::ok ? 200 : 0;
    r.failure = outcome == Outcome::dropped ? harness::Failure::reset : harness::Failure::none;
    return r;
}

// Two workloads: `fast` answers ok all run long; `sse` loses 3 streams at 2.1 s.
struct TwoWorkloads {
    TwoWorkloads() {
        scenario.name = "lanes";
        scenario.file = "lanes.yaml";
        verdict.scenario = &scenario;
        auto& run = verdict.run;
        run.duration_us = 4'000'000;
        run.workload_names = {"fast", "sse"};
        std::uint64_t id = 1;
        for (std::int64_t t = 0; t < 4'000'000; t += 10'000) run.history.push_back(request(id++, 0, t, t + 2'000, Outcome::ok));
        for (int i = 0; i < 3; ++i) run.history.push_back(request(id++, 1, 100'000, 2'100'000 + i * 1000, Outcome::dropped));
        run.requests = run.history.size();
    }
    harness::Scenario scenario;
    RunVerdict verdict;
};

TEST(HtmlWorkloadLanes, ALaneForEachWorkloadWithItsName) {
    TwoWorkloads f;
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find(R"(<g class="lane" data-w="0">)"), std::string::npos);
    EXPECT_NE(html.find(R"(<g class="lane" data-w="1">)"), std::string::npos);
    EXPECT_TRUE(std::regex_search(html, std::regex(R"re(<text class="lane-name"[^>]*>fast<title>fast</title></text>)re"))) << html;
    EXPECT_TRUE(std::regex_search(html, std::regex(R"re(<text class="lane-name"[^>]*>sse<title>sse</title></text>)re"))) << html;
    EXPECT_EQ(html.find(R"(<g class="lane" data-w="2">)"), std::string::npos) << "two workloads, two lanes";
}

// The 3 lost streams show in the sse lane, in the dropped colour, in the bucket holding 2.1 s.
TEST(HtmlWorkloadLanes, ShowWhenAWorkloadLostRequests) {
    TwoWorkloads f;
    const auto html = html_report(f.verdict);
    const std::regex dropped(R"re(<rect class="wl" data-w="(\d+)" data-a="(\d+)" data-b="(\d+)"[^>]*fill="#e53935"><title>([^<]*)</title>)re");
    std::vector<std::string> found;
    for (std::sregex_iterator it(html.begin(), html.end(), dropped), end; it != end; ++it) {
        EXPECT_EQ((*it)[1], "1") << "only sse lost requests";
        EXPECT_LE(std::stoll((*it)[2]), 2'100'000);
        EXPECT_GT(std::stoll((*it)[3]), 2'102'000);
        found.push_back((*it)[4]);
    }
    ASSERT_EQ(found.size(), 1u) << html;
    EXPECT_NE(found[0].find("sse 2.096-2.112s: dropped 3"), std::string::npos) << found[0];
}

// A long name is cut to fit left of the plot; the whole name stays in its title.
TEST(HtmlWorkloadLanes, ALongNameIsCutAndKeptWhole) {
    TwoWorkloads f;
    f.verdict.run.workload_names[1] = "server-sent-events";
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find("server-s\u2026<title>server-sent-events</title>"), std::string::npos) << html;
}

} // namespace
} // namespace lastcall::reports
