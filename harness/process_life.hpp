#pragma once
// The target's processes over time, as lastcall saw them: each one's birth (from its start time
// in /proc, 10 ms ticks: exact whatever lastcall's own scheduling) and end (bracketed by two /proc
// scans, every 50 ms: after last_seen_us, no later than gone_us; exact, with its status, when the
// kernel's process connector told). What the process checks
// (checks_workers.cpp) judge births and deaths from.
#include "event_log.hpp"
#include "exit_status.hpp"
#include "proc_connector.hpp"
#include "process_family.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

struct ProcessLife {
    pid_t pid = 0;
    pid_t parent = 0;         // when first seen (a worker's master)
    int generation = 0;       // the target generation it belongs to
    std::string command;
    std::int64_t spawn_us = 0;       // run time; from its start ticks (rounded down to 10 ms)
    std::int64_t first_seen_us = 0;  // the first scan that found it
    std::int64_t last_seen_us = 0;   // the last scan that found it alive
    std::int64_t gone_us = -1;       // the first scan that no longer found it alive; -1: never
    // From the kernel (proc_connector.hpp), when it told: the exact end and how.
    std::int64_t exit_us = -1;
    std::optional<TargetExit> exit;
    // When it ended, as exactly as lastcall knows: the kernel's time, else the scan's; -1: never.
    std::int64_t end_us() const { return exit_us >= 0 ? exit_us : gone_us; }
};

// `run_start` is t = 0; `kernel_exits` what the kernel told of ends (any process's; matched by pid
// and a time after the birth). Sorted by spawn time.
std::vector<ProcessLife> process_lives(const std::vector<FamilyMember>& members, std::chrono::steady_clock::time_point run_start,
                                       const std::vector<KernelExit>& kernel_exits = {});

// Its `process_spawn` and (once gone) `process_exit` events for events.jsonl.
void record_process_events(EventLog& events, const ProcessLife& life);
nlohmann::json to_json(const ProcessLife& life);  // for run.json

// When a process with these start ticks (/proc/PID/stat field 22, since boot) started, on the
// steady clock.
std::chrono::steady_clock::time_point steady_start_time(unsigned long long start_ticks);

} // namespace lastcall::harness
