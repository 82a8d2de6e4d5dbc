// The C API of <compel/compel.h> over the C++ core: every entry point
// catches the core's errors, keeps their message for compel_last_error()
// and returns the negative errno.
#include <compel/compel.h>
#include <compel/error.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <sys/mman.h>

#include "Infection.h"
#include "Task.h"

struct compel_task {
	std::unique_ptr<compel::core::Task> task;
};

namespace {

thread_local std::string last_error;

int fail(const compel::Error &e)
{
	last_error = e.what();
	return e.err() ? -e.err() : -EIO;
}

int fail(const std::exception &e)
{
	last_error = std::string("internal error: ") + e.what();
	return -EIO;
}

// Runs f, translating what it throws.
template <typename F> int guard(F &&f)
{
	try {
		f();
		return 0;
	} catch (const compel::Error &e) {
		return fail(e);
	} catch (const std::exception &e) {
		return fail(e);
	}
}

int invalid(const char *what)
{
	last_error = what;
	return -EINVAL;
}

compel::core::Infection *core(compel_infection *inf) { return reinterpret_cast<compel::core::Infection *>(inf); }

} // namespace

extern "C" {

const char *compel_last_error(void) { return last_error.c_str(); }

int compel_seize(pid_t pid, unsigned flags, compel_task **out)
{
	if (!out)
		return invalid("compel_seize: task is NULL");
	*out = nullptr;
	return guard([&] {
		auto t = std::make_unique<compel_task>();
		t->task = compel::core::Task::seize(pid, flags);
		*out = t.release();
	});
}

int compel_detach(compel_task *task)
{
	if (!task)
		return 0;
	std::unique_ptr<compel_task> owned(task);
	return guard([&] { owned->task->detach(); });
}

pid_t compel_task_pid(const compel_task *task) { return task->task->pid(); }

enum compel_arch compel_task_arch(const compel_task *task) { return task->task->arch().id(); }

int compel_task_threads(const compel_task *task, pid_t *tids, size_t max)
{
	std::vector<pid_t> all = task->task->tids();
	for (size_t i = 0; i < all.size() && i < max; i++)
		tids[i] = all[i];
	return int(all.size());
}

int compel_get_thread_info(const compel_task *task, pid_t tid, struct compel_thread_info *info)
{
	return guard([&] {
		const compel::core::TracedThread &t = task->task->thread(tid);
		info->tid = t.thread.tid();
		info->state = t.state;
		info->stop_signal = t.stop_signal;
		info->syscall_nr = t.syscall_nr;
	});
}

int compel_resume(compel_task *task)
{
	return guard([&] { task->task->resume(); });
}

int compel_interrupt(compel_task *task)
{
	return guard([&] { task->task->interrupt(); });
}

int compel_syscall_in(compel_task *task, pid_t tid, enum compel_sys sys, const uint64_t args[6], int64_t *result)
{
	return guard([&] {
		uint64_t none[6] = {};
		*result = task->task->syscall(task->task->thread(tid), sys, args ? args : none);
	});
}

int compel_syscall(compel_task *task, enum compel_sys sys, const uint64_t args[6], int64_t *result)
{
	return compel_syscall_in(task, 0, sys, args, result);
}

// The helpers' remote result: an address or descriptor, or a failure.
static int remote_result(int64_t r, const char *what, pid_t pid)
{
	if (r >= 0 || r < -4095)
		return 0;
	last_error = "pid " + std::to_string(pid) + ": " + what + " failed: " + compel::Error::errno_text(int(-r));
	return int(r);
}

int compel_remote_mmap(compel_task *task, uint64_t addr, uint64_t length, int prot, int flags, int fd,
		       uint64_t offset, uint64_t *out)
{
	int64_t r = 0;
	int rc = guard([&] { r = task->task->mmap(task->task->leader(), addr, length, prot, flags, fd, offset); });
	if (rc)
		return rc;
	*out = uint64_t(r);
	return remote_result(r, "remote mmap", task->task->pid());
}

int compel_remote_munmap(compel_task *task, uint64_t addr, uint64_t length)
{
	int64_t r = 0;
	int rc = guard([&] { r = task->task->syscall(COMPEL_SYS_munmap, {addr, length}); });
	return rc ? rc : remote_result(r, "remote munmap", task->task->pid());
}

int compel_remote_mprotect(compel_task *task, uint64_t addr, uint64_t length, int prot)
{
	int64_t r = 0;
	int rc = guard([&] { r = task->task->syscall(COMPEL_SYS_mprotect, {addr, length, uint64_t(prot)}); });
	return rc ? rc : remote_result(r, "remote mprotect", task->task->pid());
}

int compel_remote_memfd(compel_task *task, const char *name, unsigned flags, int *out_fd)
{
	// The name must be in the task's memory: a scratch page holds it.
	int64_t r = 0;
	int rc = guard([&] {
		compel::core::Task &t = *task->task;
		size_t len = strlen(name) + 1;
		if (len > 250)
			throw compel::Error("remote memfd: name longer than 249 bytes", EINVAL);
		int64_t page = t.mmap(t.leader(), 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page < 0)
			throw compel::Error("pid " + std::to_string(t.pid()) + ": remote memfd: no scratch page", int(-page));
		t.write_mem(uint64_t(page), name, len);
		r = t.syscall(COMPEL_SYS_memfd_create, {uint64_t(page), flags});
		t.syscall(COMPEL_SYS_munmap, {uint64_t(page), 4096});
	});
	if (rc)
		return rc;
	*out_fd = int(r);
	return remote_result(r, "remote memfd_create", task->task->pid());
}

int compel_read_memory(compel_task *task, uint64_t addr, void *buf, size_t len)
{
	return guard([&] { task->task->read_mem(addr, buf, len); });
}

int compel_write_memory(compel_task *task, uint64_t addr, const void *buf, size_t len)
{
	return guard([&] { task->task->write_mem(addr, buf, len); });
}

int compel_infect(compel_task *task, const struct compel_blob_desc *const *blobs,
		  const struct compel_infect_opts *opts, compel_infection **out)
{
	if (!out)
		return invalid("compel_infect: infection is NULL");
	*out = nullptr;
	compel_infect_opts none = {};
	return guard([&] {
		compel::core::Infection &inf = task->task->infect(blobs, opts ? *opts : none);
		*out = reinterpret_cast<compel_infection *>(&inf);
	});
}

void *compel_args(compel_infection *inf) { return core(inf)->args(); }
size_t compel_args_size(const compel_infection *inf)
{
	return reinterpret_cast<const compel::core::Infection *>(inf)->args_size();
}
uint64_t compel_blob_base(const compel_infection *inf)
{
	return reinterpret_cast<const compel::core::Infection *>(inf)->base();
}

int compel_call(compel_infection *inf, unsigned int cmd, int *ret)
{
	return guard([&] {
		int r = core(inf)->call(cmd);
		if (ret)
			*ret = r;
	});
}

int compel_daemon_start(compel_infection *inf)
{
	return guard([&] { core(inf)->daemon_start(); });
}

int compel_daemon_stop(compel_infection *inf)
{
	return guard([&] { core(inf)->daemon_stop(); });
}

int compel_send_fds(compel_infection *inf, const int *fds, unsigned int n)
{
	return guard([&] { core(inf)->send_fds(fds, n); });
}

int compel_recv_fds(compel_infection *inf, int *fds, unsigned int n)
{
	return guard([&] { core(inf)->recv_fds(fds, n); });
}

int compel_cure(compel_infection *inf)
{
	if (!inf)
		return invalid("compel_cure: infection is NULL");
	return guard([&] { core(inf)->task().cure(); });
}

void compel_set_log_handler(compel_infection *inf, compel_log_handler handler, void *data)
{
	core(inf)->set_log_handler(handler, data);
}

} // extern "C"
