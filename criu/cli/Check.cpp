#include "Check.h"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <cstdio>
#include <functional>
#include <linux/sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "Infection.h"
#include "PagemapScan.h"
#include "UnixDiag.h"
#include "Task.h"
#include "format.h"

namespace criu {

using compel::Error;

namespace {

// A child that waits to be looked at, killed and reaped on scope exit.
struct Child {
	pid_t pid;
	Child()
	{
		pid = fork();
		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0)
			throw Error("cannot fork", errno);
	}
	~Child()
	{
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
	}
};

void ptrace_and_compel()
{
	Child c;
	auto task = compel::core::Task::seize(c.pid, 0);
	if (task->syscall(COMPEL_SYS_getpid, {}) != c.pid)
		throw Error("a remote getpid() returned something else", EIO);
}

void clone3_set_tid()
{
	pid_t free_pid;
	{
		Child c;
		free_pid = c.pid;
	}
	clone_args args = {};
	args.exit_signal = SIGCHLD;
	args.set_tid = uint64_t(uintptr_t(&free_pid));
	args.set_tid_size = 1;
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0);
	if (r < 0)
		throw Error("clone3 with set_tid", errno);
	waitpid(pid_t(r), nullptr, 0);
	if (r != free_pid)
		throw Error("clone3 gave another pid than asked", EIO);
}

void prctl_mm_map()
{
	unsigned size = 0;
	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) != 0)
		throw Error("prctl(PR_SET_MM_MAP_SIZE)", errno);
}

void rseq_config()
{
	Child c;
	auto task = compel::core::Task::seize(c.pid, 0);
	uint64_t conf[3] = {};
	if (ptrace(__ptrace_request(0x420f), c.pid, sizeof(conf), conf) < 0)
		throw Error("PTRACE_GET_RSEQ_CONFIGURATION", errno);
}

void kcmp_files()
{
	if (syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0) < 0)
		throw Error("kcmp(KCMP_FILE)", errno);
}

void map_files()
{
	char link[64], target[256];
	void *p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)p, (unsigned long)p + 4096);
	bool ok = readlink(link, target, sizeof(target)) >= 0;
	int err = errno;
	munmap(p, 4096);
	if (!ok && err != ENOENT) // anonymous memory has no file: ENOENT means the directory works
		throw Error("/proc/PID/map_files", err);
}

void timer_restore_ids()
{
	// PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15): on, then off again.
	if (prctl(77, 1, 0, 0, 0) != 0 || prctl(77, 0, 0, 0, 0) != 0)
		throw Error("prctl(PR_TIMER_CREATE_RESTORE_IDS)", errno);
}

void pagemap_scan()
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	proc::PageRegion r;
	proc::PmScanArg arg{};
	arg.size = sizeof(arg);
	arg.start = uintptr_t(&r) & ~uintptr_t(4095);
	arg.end = arg.start + 4096;
	arg.vec = uintptr_t(&r);
	arg.vec_len = 1;
	arg.category_anyof_mask = arg.return_mask = proc::kPageIsPresent;
	long n = fd < 0 ? -1 : ioctl(fd, proc::kPagemapScan, &arg);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (n != 1)
		throw Error("PAGEMAP_SCAN on /proc/self/pagemap", n < 0 ? err : EIO);
}

void pidfd_getfd()
{
	int pidfd = int(syscall(SYS_pidfd_open, getpid(), 0));
	int copy = pidfd < 0 ? -1 : int(syscall(SYS_pidfd_getfd, pidfd, pidfd, 0));
	int err = errno;
	if (copy >= 0)
		close(copy);
	if (pidfd >= 0)
		close(pidfd);
	if (copy < 0)
		throw Error("pidfd_getfd() of criu's own pidfd", err);
}

void unix_diag() { proc::read_unix_sockets(); }

// TIOCSTI on a pty of criu's own: how typed input goes back into a pty.
void tty_inject()
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[64];
	int slave = master >= 0 && unlockpt(master) == 0 && ptsname_r(master, name, sizeof(name)) == 0
			    ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
			    : -1;
	char c = '\n';
	int ok = slave >= 0 && ioctl(slave, TIOCSTI, &c) == 0;
	int err = errno;
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
	if (!ok)
		throw Error("TIOCSTI on a pty", err);
}

struct Feature {
	const char *name;
	const char *what;
	std::function<void()> probe;
};

const std::vector<Feature> &features()
{
	static const std::vector<Feature> list = {
		{"ptrace", "PTRACE_SEIZE, remote syscalls", ptrace_and_compel},
		{"clone3-set-tid", "restoring a process with its pid", clone3_set_tid},
		{"mm-map", "prctl(PR_SET_MM_MAP)", prctl_mm_map},
		{"rseq", "PTRACE_GET_RSEQ_CONFIGURATION", rseq_config},
		{"kcmp", "kcmp() for shared open files", kcmp_files},
		{"map-files", "/proc/PID/map_files", map_files},
		{"timer-ids", "POSIX timers restored with their ids", timer_restore_ids},
		{"pagemap-scan", "PAGEMAP_SCAN: which pages a dump saves", pagemap_scan},
		{"pidfd-getfd", "pidfd_getfd(): the dump's copies of descriptors", pidfd_getfd},
		{"unix-diag", "sock_diag for unix sockets: peers and names", unix_diag},
		{"tty-inject", "TIOCSTI: typed input put back into ptys", tty_inject},
	};
	return list;
}

} // namespace

bool check(const Options &opts)
{
	bool all = true, found = false;
	for (const Feature &f : features()) {
		if (!opts.feature.empty() && opts.feature != f.name)
			continue;
		found = true;
		try {
			f.probe();
			printf("%-16s ok    (%s)\n", f.name, f.what);
		} catch (const Error &e) {
			printf("%-16s FAIL  (%s): %s\n", f.name, f.what, e.what());
			all = false;
		}
	}
	if (!found) {
		std::string names;
		for (const Feature &f : features())
			names += std::string(names.empty() ? "" : ", ") + f.name;
		throw Error("check: unknown feature '" + opts.feature + "' (known: " + names + ")", EINVAL);
	}
	if (opts.feature.empty())
		printf(all ? "Looks good.\n" : "Some features are missing: criu cannot work fully here.\n");
	return all;
}

} // namespace criu
