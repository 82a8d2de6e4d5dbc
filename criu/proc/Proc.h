#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

// What criu reads of /proc/PID: one parser per file, each returning plain
// data and throwing compel::Error that names the file.
namespace criu::proc {

struct Stat {
	char state = '?';
	std::string comm;
	pid_t ppid = 0, pgid = 0, sid = 0;
	uint32_t tty_nr = 0; // the controlling terminal's device number (kernel encoding), 0 for none
	int exit_signal = 0;
	int exit_code = 0; // a zombie's wait status, as waitpid() would give it
	uint64_t start_code = 0, end_code = 0, start_stack = 0;
	uint64_t start_data = 0, end_data = 0, start_brk = 0;
	uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
	uint64_t flags = 0;
};
Stat read_stat(pid_t pid);

struct Status {
	std::vector<pid_t> nspid; // outermost first
	std::vector<pid_t> nspgid, nssid;
	uint32_t uid[4] = {}, gid[4] = {}; // real, effective, saved, fs
	std::vector<uint32_t> groups;
	uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
	bool no_new_privs = false;
	int seccomp = 0;
	int threads = 0;
	bool kernel_thread = false;
};
Status read_status(pid_t pid);

// A VMA as /proc/PID/smaps tells it.
struct Vma {
	uint64_t start = 0, end = 0;
	bool read = false, write = false, exec = false, shared = false;
	uint64_t offset = 0;
	unsigned dev_major = 0, dev_minor = 0;
	uint64_t ino = 0;
	std::string name;            // path, "[heap]", "[vdso]"... or ""
	std::vector<std::string> vmflags; // "rd", "gd", "dc", "wf"...

	bool has(const char *flag) const;
};
std::vector<Vma> read_smaps(pid_t pid);
// The bytes of anonymous memory pid has, resident or swapped (smaps_rollup).
uint64_t anonymous_bytes(pid_t pid);

struct InotifyWatch {
	uint32_t wd = 0, mask = 0;
	uint64_t ino = 0;
	uint32_t sdev = 0;           // the kernel's dev_t: major << 20 | minor
	int handle_type = 0;
	std::vector<uint8_t> handle; // for open_by_handle_at()
};

struct EpollTarget {
	int fd = 0;
	uint32_t events = 0;
	uint64_t data = 0;
};

// A lock held through the file, as fdinfo lists it ("lock:" lines).
struct FileLock {
	std::string kind;   // FLOCK, POSIX, OFDLCK; LEASE, DELEG... (criu refuses them)
	bool mandatory = false;
	bool write = false; // WRITE, else READ
	pid_t pid = 0;      // the holder; -1 for an OFD lock
	uint64_t start = 0;
	uint64_t end = 0;   // the last byte; UINT64_MAX for "EOF", to the end of any size
};

// The lines of fdinfo that the file's type adds, parsed when present.
struct FdInfo {
	uint64_t pos = 0;
	uint32_t flags = 0; // open(2) flags, octal in the file
	bool eventfd = false, eventfd_semaphore = false;
	uint64_t eventfd_count = 0;
	bool signalfd = false;
	uint64_t sigmask = 0;
	bool timerfd = false;
	int clockid = 0;
	uint64_t ticks = 0;
	uint32_t settime_flags = 0;
	uint64_t value_ns = 0, interval_ns = 0;
	std::vector<InotifyWatch> inotify;
	std::vector<EpollTarget> epoll;
	std::vector<FileLock> locks;
};
FdInfo read_fdinfo(pid_t pid, int fd);
std::vector<int> list_fds(pid_t pid);

struct PosixTimer {
	int id = 0;
	int signo = 0;
	uint64_t sigval = 0;
	int notify = 0;     // SIGEV_SIGNAL, _NONE, _THREAD, | SIGEV_THREAD_ID
	int notify_tid = 0;
	int clock = 0;
};
std::vector<PosixTimer> read_timers(pid_t pid);

// The auxiliary vector's words (key, value pairs), word_size bytes each.
std::vector<uint64_t> read_auxv(pid_t pid, unsigned word_size);
uint32_t read_personality(pid_t pid);

} // namespace criu::proc
