#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace compel::core {

// What compel reads of /proc/PID/status.
struct ProcStatus {
	char state = '?';      // R, S, D, T, t, Z, X...
	pid_t tgid = 0;
	pid_t tracer = 0;      // TracerPid
	int seccomp = 0;       // 0 none, 1 strict, 2 filter
	uint64_t sig_ignored = 0;
	bool kernel_thread = false;
};

// Throws Error(ESRCH) if there is no such process.
ProcStatus read_proc_status(pid_t pid);

// Thread ids of process pid, as /proc/PID/task lists them.
std::vector<pid_t> list_threads(pid_t pid);

struct MapEntry {
	uint64_t start = 0, end = 0;
	bool read = false, write = false, exec = false, shared = false;
	uint64_t offset = 0;
	std::string name; // path, [vdso], [stack]... or empty
};

std::vector<MapEntry> read_maps(pid_t pid);

// The value of auxiliary vector entry `type` of process pid, whose words are
// word_size bytes (4 for a 32-bit task), or 0 if it has none.
uint64_t read_auxv(pid_t pid, uint64_t type, unsigned word_size);

} // namespace compel::core
