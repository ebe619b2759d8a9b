#pragma once
// Which durable layout a state dir holds. One process keeps its counter in a journal and a
// checkpoint (counter.journal, checkpoint.dat); a --workers service keeps it in a database its
// workers share (counter.db). A dir holding one layout is refused by the other mode: starting there
// would begin from an empty counter and hide every increment the dir holds as acknowledged.
#include <filesystem>

namespace lastcall::server {

enum class StateLayout { single_process, shared };

// Throws StartupError (exit 3) naming the file that belongs to the other layout.
void check_state_layout(const std::filesystem::path& dir, StateLayout wanted);

// Creates `dir` and proves it writable with a probe file, fsynced when `sync` (the file system
// takes an fsync), so that what would otherwise only fail at shutdown, with acknowledged state at
// stake, is refused at start. Throws StartupError.
void prepare_state_dir(const std::filesystem::path& dir, bool sync);

} // namespace lastcall::server
