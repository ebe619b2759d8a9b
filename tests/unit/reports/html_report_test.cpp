// report.html's parts on hand-made runs, asserted on the HTML text: a lane per workload with its
// name and its outcomes over time; the latency scatter on a log scale; the bound on the requests
// the page carries one by one, and the JSON it carries them in for the drill-down; what the zoom
// moves.
#include "html_parts.hpp"
#include "reports.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
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

// An empty phases lane says why (a new user could not tell a target without a shutdown report from
// a report lastcall failed to draw); a lane with phases draws them and says nothing of the kind.
TEST(HtmlPhasesLane, SaysWhyItIsEmpty) {
    TwoWorkloads f;
    EXPECT_NE(html_report(f.verdict).find(">no phases: no shutdown signal was sent<"), std::string::npos);
    harness::SignalSent term;
    term.t_us = 2'000'000;
    term.signal = SIGTERM;
    term.to = "target";
    term.generation = 1;
    f.verdict.run.signals.push_back(term);
    EXPECT_NE(html_report(f.verdict).find(">no phases reported: the target publishes none (the scenario names no target.shutdown_report)<"),
              std::string::npos);
    auto& reading = f.verdict.run.report;
    reading.state = harness::TargetReportReading::State::absent;
    reading.detail = "no file at /tmp/x/report.json";
    EXPECT_NE(html_report(f.verdict).find(">no phases reported: the target wrote no shutdown report (no file at /tmp/x/report.json)<"),
              std::string::npos);
    reading.state = harness::TargetReportReading::State::ok;
    reading.report = harness::TargetReport{};
    reading.report->phases.push_back({"draining", 1, 500, "completed", ""});
    const auto drawn = html_report(f.verdict);
    EXPECT_EQ(drawn.find("no phases"), std::string::npos);
    EXPECT_NE(drawn.find("<title>draining 1.0-500.0 ms completed</title>"), std::string::npos) << drawn;
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
// Past limits.history_bytes the run counted more requests than it recorded: the page's counts are
// the run's (every request), and it says its timeline draws only the recorded ones.
TEST(HtmlDrilldown, SaysWhatTheHistoryCapLeftUndrawn) {
    TwoWorkloads f;
    auto& run = f.verdict.run;
    const auto recorded = run.history.size();
    EXPECT_EQ(html_report(f.verdict).find("not recorded past limits.history_bytes"), std::string::npos);
    run.history_dropped = 1000;
    run.requests = recorded + 1000;
    run.outcomes[static_cast<std::size_t>(Outcome::ok)] = recorded - 3 + 1000;
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find(fmt::format("{} requests, target", recorded + 1000)), std::string::npos);
    EXPECT_NE(html.find(fmt::format("1000 of the {} requests were not recorded past limits.history_bytes: the counts above are of every request, "
                                    "the timeline and its lanes draw the {} recorded.",
                                    recorded + 1000, recorded)),
              std::string::npos);
}

TEST(HtmlWorkloadLanes, ALongNameIsCutAndKeptWhole) {
    TwoWorkloads f;
    f.verdict.run.workload_names[1] = "server-sent-events";
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find("server-\u2026<title>server-sent-events</title>"), std::string::npos) << html;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// Every request a point, the dropped ones in red over the ok ones; ticks per power of ten.
TEST(HtmlLatencyLane, EveryRequestIsAPointOnALogScale) {
    TwoWorkloads f;
    const auto html = html_report(f.verdict);
    EXPECT_EQ(count(html, R"(<path class="pt" data-i=")"), f.verdict.run.history.size());
    EXPECT_EQ(count(html, R"(stroke="#e53935"/>)"), 3u) << "the 3 dropped";
    const auto last_ok = html.rfind(R"(stroke="#4caf50"/>)"), first_dropped = html.find(R"(stroke="#e53935"/>)");
    EXPECT_LT(last_ok, first_dropped) << "failures drawn last, on top";
    // 2 ms (ok) to 2 s (dropped): 1 ms to 10 s, a tick per decade.
    std::vector<std::string> ticks;
    const std::regex tick(R"re(<text class="ltick"[^>]*>([^<]+)</text>)re");
    for (std::sregex_iterator it(html.begin(), html.end(), tick), end; it != end; ++it) ticks.push_back((*it)[1]);
    EXPECT_EQ(ticks, (std::vector<std::string>{"1ms", "10ms", "100ms", "1s", "10s"}));
}

// Past the bound: every request not ok, then ok ones spread over the run, the first and last kept.
TEST(HtmlLatencyLane, CarriesEveryFailureAndASpreadOfTheRest) {
    harness::RunResult run;
    for (std::uint64_t i = 0; i < 30; ++i) run.history.push_back(request(i + 1, 0, static_cast<std::int64_t>(i) * 1000, static_cast<std::int64_t>(i) * 1000 + 10, Outcome::ok));
    for (const auto i : {3, 17, 29}) run.history[static_cast<std::size_t>(i)].outcome = Outcome::dropped;
    const auto tallies = html::tally_requests(run, html::run_scale(run));  // the counts, from the page's first pass
    EXPECT_EQ(tallies.total, 30u);
    const auto e = html::select_requests(run, tallies, 8);
    EXPECT_EQ(e.indices, (std::vector<std::size_t>{3, 17, 29, 0, 7, 14, 21, 28}));
    EXPECT_EQ(e.not_ok, 3u);
    EXPECT_EQ(e.ok_total, 27u);
    EXPECT_EQ(e.ok_kept, 5u);
    EXPECT_EQ(html::select_requests(run, tallies, 2).indices, (std::vector<std::size_t>{3, 17})) << "failures first, even past the bound";
}

// The requests the page carries, as its script reads them: the JSON element's text, parsed.
nlohmann::json embedded_json(const std::string& html) {
    const std::string open = R"(<script type="application/json" id="lc-requests">)";
    const auto from = html.find(open);
    if (from == std::string::npos) return nullptr;
    const auto to = html.find("</script>", from);
    return nlohmann::json::parse(html.substr(from + open.size(), to - from - open.size()), nullptr, false);
}

TEST(HtmlDrilldown, TheEmbeddedJsonParsesAndHoldsTheFailingRequests) {
    TwoWorkloads f;
    const auto data = embedded_json(html_report(f.verdict));
    ASSERT_TRUE(data.is_object()) << data;
    EXPECT_EQ(data["workloads"], (nlohmann::json{"fast", "sse"}));
    EXPECT_EQ(data["requests_total"], f.verdict.run.history.size());
    EXPECT_EQ(data["requests"].size(), f.verdict.run.history.size()) << "under the bound: every request";
    std::map<std::string, std::size_t> field;
    for (std::size_t i = 0; i < data["fields"].size(); ++i) field[data["fields"][i]] = i;
    std::vector<std::uint64_t> dropped;
    for (const auto& row : data["requests"]) {
        if (row[field["outcome"]] != "dropped") continue;
        dropped.push_back(row[field["id"]]);
        EXPECT_EQ(row[field["workload"]], 1) << row;
        EXPECT_EQ(row[field["failure"]], "reset") << row;
        EXPECT_GE(row[field["done_us"]], 2'100'000) << row;
    }
    const auto first = f.verdict.run.history.size() - 2;  // the sse requests' ids: after the 400 fast ones
    EXPECT_EQ(dropped, (std::vector<std::uint64_t>{first, first + 1, first + 2}));
    EXPECT_EQ(data["requests"][0][field["outcome"]], "dropped") << "failures first: the page opens on the first";
}

// Past 20,000 requests the page carries every failure and says how many of the rest.
TEST(HtmlDrilldown, IsBoundedAndSaysSo) {
    TwoWorkloads f;
    auto& history = f.verdict.run.history;
    for (std::uint64_t i = 0; i < 25'000; ++i) history.push_back(request(10'000 + i, 0, 3'000'000, 3'001'000, Outcome::ok));
    const auto html = html_report(f.verdict);
    const auto data = embedded_json(html);
    ASSERT_TRUE(data.is_object());
    EXPECT_EQ(data["requests"].size(), html::max_embedded_requests);
    EXPECT_EQ(data["not_ok_kept"], 3);
    EXPECT_NE(html.find("The page carries 20000 of the 25403 requests one by one: 3 of the 3 not ok (all), and 19997 of the 25400 ok ones"),
              std::string::npos);
}

// A workload named to break out of the script element cannot: no raw '<' in the JSON.
TEST(HtmlDrilldown, ANameCannotEndTheScriptElement) {
    TwoWorkloads f;
    f.verdict.run.workload_names[1] = "</script><script>alert(1)</script>";
    const auto html = html_report(f.verdict);
    const auto data = embedded_json(html);
    ASSERT_TRUE(data.is_object()) << "the element ended early";
    EXPECT_EQ(data["workloads"][1], "</script><script>alert(1)</script>");
    EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
}

// The zoom stretches every g.zoom along x: all the shapes placed by time are in one, and no text
// (it would stretch); text placed by time carries its time for the script to move it.
TEST(HtmlZoom, EveryShapePlacedByTimeMovesWithTheZoomAndNoTextStretches) {
    TwoWorkloads f;
    auto& run = f.verdict.run;
    harness::SignalSent sigterm;
    sigterm.t_us = 1'000'000;
    sigterm.signal = SIGTERM;
    run.signals = {sigterm};
    run.exit = harness::TargetExit{true, 0, 0};
    run.exit_us = 2'500'000;
    run.samples = {harness::ProcSample{0, 30}, harness::ProcSample{500'000, 130}};
    run.readiness = {harness::ReadinessChange{1'100'000, false, 503}};
    const auto html = html_report(f.verdict);
    EXPECT_NE(html.find(R"(data-left="50" data-plot-width="900" data-end-us="4000000")"), std::string::npos) << "what the script scales by";
    EXPECT_NE(html.find(R"(<clipPath id="lc-plot">)"), std::string::npos);
    std::string zoomed;  // everything inside the zoom groups
    for (auto at = html.find(R"(<g class="zoom">)"); at != std::string::npos; at = html.find(R"(<g class="zoom">)", at + 1)) {
        zoomed += html.substr(at, html.find("</g></g>", at) - at);
    }
    EXPECT_EQ(zoomed.find("<text"), std::string::npos) << "text inside a stretched group";
    for (const std::string shape : {R"(<path class="pt")", R"(<rect class="wl")", "<polygon", "<polyline"}) {
        EXPECT_GT(count(zoomed, shape), 0u) << shape;
        EXPECT_EQ(count(zoomed, shape), count(html, shape)) << shape << " outside the zoom";
    }
    EXPECT_EQ(count(zoomed, "<line x1="), 2u) << "the SIGTERM and exit markers' lines";
    EXPECT_TRUE(std::regex_search(html, std::regex(R"re(<text class="marker" data-t="1000000" data-dx="3"[^>]*>SIGTERM</text>)re"))) << html;
    for (const auto* id : {"lc-zoom-in", "lc-zoom-out", "lc-zoom-reset"}) EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
}

} // namespace
} // namespace lastcall::reports
