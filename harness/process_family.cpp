#include "process_family.hpp"

#include "run_cgroup.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unistd.h>

namespace lastcall::harness {

std::string FamilyMember::describe() const {
    const auto& shown = command.empty() ? std::string("?") : command;
    std::string how;
    if (session != ::getsid(0)) how = "; left lastcall's session (setsid)";
    else if (group != root_group) how = "; left the target's process group";
    const auto parent_text = parent == ::getpid() ? std::string("lastcall") : std::to_string(parent);
    return fmt::format("pid {} ({}{}; parent {}; {}, generation {})", pid, shown, how, parent_text, found_by, generation);
}

ProcessFamily::ProcessFamily(pid_t self, bool adopt_orphans, const RunCgroup* cgroup)
    : self_(self), adopt_orphans_(adopt_orphans), cgroup_(cgroup) {}

void ProcessFamily::add_root(pid_t pid, int generation) {
    std::lock_guard lock(mutex_);
    roots_[pid] = generation;
}

bool ProcessFamily::is_root(pid_t pid) const {
    std::lock_guard lock(mutex_);
    return roots_.count(pid) > 0;
}

int ProcessFamily::newest_generation() const {
    int newest = 0;
    for (const auto& [pid, generation] : roots_) newest = std::max(newest, generation);
    return newest;
}

void ProcessFamily::admit(const ProcStat& p, int generation, const char* found_by) {
    auto [it, fresh] = members_.try_emplace(p.pid);
    auto& m = it->second;
    if (!fresh && m.start_ticks != p.start_ticks) fresh = true;  // the pid was reused: a new process
    if (fresh) {
        m = FamilyMember{p.pid, p.ppid, p.pgrp, p.session, generation, read_cmdline(p.pid), found_by, std::chrono::steady_clock::now(), p.start_ticks};
        for (const auto& [root, g] : roots_) {
            if (g == generation) m.root_group = root;  // each generation's main process leads its group
        }
        if (m.command.empty()) m.command = p.comm;
        m.first_parent = p.ppid;
        m.last_seen_alive = m.first_seen;
    }
    if (p.alive()) {  // as it is now: it may have moved to a group or session of its own
        m.parent = p.ppid;
        m.group = p.pgrp;
        m.session = p.session;
    }
}

std::vector<FamilyMember> ProcessFamily::observe() {
    const auto processes = all_processes();
    const auto in_cgroup = cgroup_ ? cgroup_->members() : std::vector<pid_t>{};
    std::lock_guard lock(mutex_);
    const int newest = newest_generation();
    const auto generation_of = [&](pid_t pid) -> std::optional<int> {
        if (const auto root = roots_.find(pid); root != roots_.end()) return root->second;
        if (const auto m = members_.find(pid); m != members_.end()) return m->second.generation;
        return std::nullopt;
    };
    for (const auto& p : processes) {
        if (roots_.count(p.pid) || p.pid == self_) continue;
        if (std::find(in_cgroup.begin(), in_cgroup.end(), p.pid) != in_cgroup.end()) admit(p, newest, "in the run's cgroup");
        else if (const auto root = roots_.find(p.pgrp); root != roots_.end()) admit(p, root->second, "in the target's process group");
        else if (p.ppid == self_ && adopt_orphans_) admit(p, newest, "adopted by lastcall");
    }
    // Descendants of any member, to a fixed point (parents may be listed after their children).
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& p : processes) {
            if (roots_.count(p.pid) || p.pid == self_ || members_.count(p.pid)) continue;
            if (const auto g = generation_of(p.ppid)) {
                admit(p, *g, "a descendant");
                grew = true;
            }
        }
    }
    std::vector<FamilyMember> living;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& p : processes) {
        if (!p.alive()) continue;
        if (const auto m = members_.find(p.pid); m != members_.end() && m->second.start_ticks == p.start_ticks) {
            m->second.last_seen_alive = now;
            living.push_back(m->second);
        }
    }
    // What this scan did not find alive has ended (the first scan to miss it says when, at the latest).
    for (auto& [pid, m] : members_) {
        if (m.gone_seen) continue;
        const bool alive = std::any_of(living.begin(), living.end(), [&](const FamilyMember& l) { return l.pid == pid; });
        if (!alive) m.gone_seen = now;
    }
    return living;
}

void ProcessFamily::admit_orphan(const ProcStat& p) {
    std::lock_guard lock(mutex_);
    if (roots_.count(p.pid) || members_.count(p.pid)) return;
    const int newest = newest_generation();
    admit(p, newest, "adopted by lastcall");
}

bool ProcessFamily::is_member(pid_t pid) const {
    std::lock_guard lock(mutex_);
    return members_.count(pid) > 0;
}

std::optional<FamilyMember> ProcessFamily::member(pid_t pid) const {
    std::lock_guard lock(mutex_);
    if (const auto it = members_.find(pid); it != members_.end()) return it->second;
    return std::nullopt;
}

std::vector<FamilyMember> ProcessFamily::alive(int generation) {
    auto living = observe();
    std::erase_if(living, [generation](const FamilyMember& m) { return generation != 0 && m.generation != generation; });
    return living;
}

std::vector<FamilyMember> ProcessFamily::members() const {
    std::lock_guard lock(mutex_);
    std::vector<FamilyMember> out;
    for (const auto& [pid, m] : members_) out.push_back(m);
    return out;
}

std::vector<pid_t> ProcessFamily::children_of(pid_t pid) {
    std::vector<pid_t> children;
    for (const auto& p : all_processes()) {
        if (p.ppid == pid && p.alive()) children.push_back(p.pid);
    }
    std::sort(children.begin(), children.end());
    return children;
}

} // namespace lastcall::harness
