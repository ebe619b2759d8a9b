#pragma once
// The kernel's word on every process exit: netlink's process connector (CN_IDX_PROC), the exact
// time and the raw wait status of each process that ends, whoever its parent is. lastcall is not a
// prefork master's workers' parent, so this is the only place their statuses come from without the
// target's own report. Needs CAP_NET_ADMIN in the initial user and PID namespaces; without it,
// open() says why and lastcall judges from the /proc scan and the target's report instead.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace lastcall::harness {

struct KernelExit {
    pid_t pid = 0;
    int wait_status = 0;  // as waitpid() gives it: WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG apply
    std::chrono::steady_clock::time_point when;  // the kernel's CLOCK_MONOTONIC stamp
};

// The exits of whole processes (thread group leaders) in one netlink datagram; anything else,
// malformed or truncated, is skipped.
std::vector<KernelExit> decode_proc_exits(const std::uint8_t* data, std::size_t size);

class ProcConnector {
public:
    // nullptr with `why` set when the kernel will not tell (no permission, no connector).
    static std::unique_ptr<ProcConnector> open(std::string* why);
    ~ProcConnector();
    ProcConnector(const ProcConnector&) = delete;
    ProcConnector& operator=(const ProcConnector&) = delete;

    std::vector<KernelExit> exits() const;  // every exit seen so far, in order
    bool lost_events() const;               // the socket overflowed: some exits are missing

private:
    ProcConnector(int socket_fd, int stop_fd);
    void run();

    int socket_fd_;
    int stop_fd_;
    mutable std::mutex mutex_;
    std::vector<KernelExit> exits_;
    bool lost_ = false;
    std::thread thread_;
};

} // namespace lastcall::harness
