#pragma once
// Small /proc readers. Nothing here throws: a process can vanish between any two reads, and what
// it wrote into its own name or command line is data, not trusted text.
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::harness {

struct ProcStat {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t pgrp = 0;
    pid_t session = 0;
    char state = '?';
    long threads = 0;
    long rss_pages = 0;
    unsigned long long start_ticks = 0;  // since boot: tells a reused pid from the process first seen
    std::string comm;
    bool alive() const { return state != 'Z' && state != 'X'; }
};

std::optional<ProcStat> read_proc_stat(pid_t pid);
std::vector<ProcStat> all_processes();
int count_open_fds(pid_t pid);  // -1 if unreadable
// Threads of `pid` in state D (uninterruptible sleep: waiting on disk I/O, an fsync); -1 if unreadable.
int count_threads_waiting_on_disk(pid_t pid);
// A SIGKILL is pending: the process is already dead, only waiting to leave an uninterruptible
// wait (an fsync on a stalled disk). False if unreadable.
bool sigkill_pending(pid_t pid);
// The command line, arguments joined by spaces; past `limit` bytes cut and ended with "..." (a
// prefork worker's own arguments come last: 500 keeps them); empty for a zombie.
std::string read_cmdline(pid_t pid, std::size_t limit = 500);

} // namespace lastcall::harness
