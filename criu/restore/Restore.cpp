#include "Restore.h"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "Log.h"
#include "RestoreImages.h"
#include "RestoreTask.h"
#include "Stats.h"
#include "Infection.h"
#include "Task.h"
#include "format.h"
#include "restorer-protocol.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// The pid and every thread's tid; a tid taken later makes the restorer's
// clone3 fail, which it reports.
void check_pids_free(const RestoreImages &img)
{
	for (size_t i = 0; i < img.pstree->n_threads; i++) {
		pid_t tid = pid_t(img.pstree->threads[i]->levels[0]);
		if (kill(tid, 0) != 0 && errno == ESRCH)
			continue;
		std::ifstream comm(format("/proc/%d/comm", tid));
		std::string name;
		std::getline(comm, name);
		std::string by = name.empty() ? "" : " (by " + name + ")";
		if (tid == img.pid)
			throw Error(format("pid %d is in use%s: cannot restore the process with its pid", tid, by.c_str()),
				    EEXIST);
		throw Error(format("tid %d is in use%s: cannot restore thread %d of pid %d", tid, by.c_str(), tid, img.pid),
			    EEXIST);
	}
}

pid_t clone_with_pid(pid_t pid)
{
	clone_args args = {};
	args.exit_signal = SIGCHLD;
	args.set_tid = uint64_t(uintptr_t(&pid));
	args.set_tid_size = 1;
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0) {
		if (errno == EEXIST)
			throw Error(format("pid %d was taken while criu prepared the restore", pid), EEXIST);
		throw Error(format("cannot create a process with pid %d (clone3 with set_tid)", pid), errno);
	}
	return pid_t(r);
}

const char *restorer_step(uint32_t step)
{
	static const char *const names[] = {
		"unmapping criu", "moving the special mappings", "moving the memory", "setting the mm fields",
		"signal actions", "timers", "rseq", "thread state", "prctl state", "queueing pending signals",
		"credentials", "creating a thread",
	};
	static_assert(sizeof(names) / sizeof(names[0]) == RESTORER_STEP_CLONE, "a name for every restorer step");
	return step >= 1 && step <= RESTORER_STEP_CLONE ? names[step - 1] : "unknown";
}

// What the restoring process said: its own error, the restorer's verdict,
// or nothing because it died.
restorer_status wait_for_restorer(int fd, pid_t pid)
{
	std::string msg;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		msg.append(buf, size_t(n));
	if (msg.rfind("ERR:", 0) == 0)
		throw Error::described(format("pid %d: ", pid) + msg.substr(4), EIO);
	// Threads that fail at once each write a verdict: the first is the one
	// to report.  Success is one verdict, the leader's, alone.
	restorer_status st;
	if (msg.size() >= sizeof(st) && msg.size() % sizeof(st) == 0) {
		memcpy(&st, msg.data(), sizeof(st));
		if (st.magic == RESTORER_STATUS_MAGIC && st.step == 0 && st.error == 0 && msg.size() == sizeof(st))
			return st;
		if (st.magic == RESTORER_STATUS_MAGIC && st.step == RESTORER_STEP_CLONE && st.error == -EEXIST)
			throw Error(format("pid %d: tid %d was taken while criu prepared the restore: cannot restore "
					   "the thread with its tid",
					   pid, st.tid),
				    EEXIST);
		if (st.magic == RESTORER_STATUS_MAGIC)
			throw Error(format("pid %d: thread %d: the restorer failed at step %u (%s)", pid, st.tid, st.step,
					   restorer_step(st.step)),
				    -st.error);
	}
	// Every copy of the pipe's write end is closed: it has ended.
	int status = 0;
	waitpid(pid, &status, 0);
	throw Error::described(format("pid %d: the restoring process ended before it was done (%s)", pid,
				      WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
							  : format("exit status %d", WEXITSTATUS(status)).c_str()),
			       EIO);
}

// Thread t leaves the restorer with the registers and signal mask of core.
void give_state(compel::core::Task &task, pid_t tid, const CoreEntry &core)
{
	compel::core::TracedThread &t = task.thread(tid);
	compel::core::RegSet regs;
	std::vector<uint8_t> fpu;
	try {
		arch_core(core.arch)->load(core, t.thread.get_regset(t.arch->fpu_regset(), t.arch->fpu_max_size()), regs,
					   fpu);
	} catch (const Error &e) {
		throw e.with_context(format("core-%d.img", tid));
	}
	task.replace_saved_state(t, regs, fpu, core.thread->blocked_sigs);
}

// The restorer is waiting in every thread: give each its dumped registers
// and signal mask, take the restorer out, and let the process go.  All
// threads are stopped until the last is given its state.
void finish(const RestoreImages &img, const restorer_status &st, bool leave_stopped)
{
	std::unique_ptr<compel::core::Task> task = compel::core::Task::seize(img.pid, 0);
	if (task->tids().size() != img.pstree->n_threads)
		throw Error(format("pid %d: has %zu threads after the restorer, not %zu", img.pid, task->tids().size(),
				   img.pstree->n_threads),
			    EIO);
	int64_t r = task->syscall(compel_sys(COMPEL_SYS_munmap), {st.self.start, st.self.len});
	if (r < 0)
		throw Error(format("pid %d: cannot unmap the restorer", img.pid), int(-r));
	give_state(*task, img.pid, *img.core);
	for (const auto &core : img.threads)
		give_state(*task, pid_t(core->tid), *core);
	if (leave_stopped && kill(img.pid, SIGSTOP) != 0)
		throw Error(format("pid %d: cannot stop it", img.pid), errno);
	task->detach();
}

} // namespace

int restore(const Options &opts)
{
	uint64_t start = monotonic_us();
	ImagesDir dir(opts.images_dir, false);
	RestoreImages img = read_images(dir);
	check_pids_free(img);
	LOG_DEBUG("pid %d: images read and checked", img.pid);

	int status[2];
	if (pipe2(status, O_CLOEXEC) != 0)
		throw Error("cannot make a pipe", errno);
	pid_t pid = clone_with_pid(img.pid);
	if (pid == 0) {
		close(status[0]);
		restore_task(img, dir, status[1], opts.shell_job);
	}
	close(status[1]);
	try {
		restorer_status st = wait_for_restorer(status[0], pid);
		close(status[0]);
		LOG_DEBUG("pid %d: the restorer is done", pid);
		finish(img, st, opts.leave_stopped);
	} catch (const Error &) {
		close(status[0]);
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
		throw;
	}
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	rs.restore_time = monotonic_us() - start;
	rs.pages_restored = img.data_pages;
	StatsEntry stats = STATS_ENTRY__INIT;
	stats.restore = &rs;
	write_stats(dir, stats);
	LOG_INFO("Restored pid %d in %.3f s", pid, double(rs.restore_time) / 1e6);
	if (!opts.pidfile.empty()) {
		std::ofstream f(opts.pidfile);
		f << pid << '\n';
		if (!f.flush())
			throw Error("cannot write the pid file " + opts.pidfile, errno);
	}
	if (opts.restore_detached)
		return 0;
	int wstatus;
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			throw Error(format("pid %d: cannot wait for it", pid), errno);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

} // namespace criu
