// A thin C++ layer over <compel/compel.h>: objects that own what they
// seized or injected, and compel::Error exceptions instead of return codes.
//
//   auto task = compel::Task::seize(pid);
//   auto inf = task.infect(my_blob_blobs, {.args_size = sizeof(MyArgs)});
//   inf.args<MyArgs>()->x = 1;
//   int ret = inf.call(MY_CMD);
//   // the infection cures itself, then the task detaches itself
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include <compel/compel.h>
#include <compel/error.hpp>

namespace compel {

namespace detail {
inline void check(int rc)
{
	if (rc < 0)
		throw Error::described(compel_last_error(), -rc);
}
} // namespace detail

class Infection {
public:
	Infection(Infection &&o) noexcept : inf_(std::exchange(o.inf_, nullptr)) {}
	Infection &operator=(Infection &&o) noexcept
	{
		if (this != &o) {
			release();
			inf_ = std::exchange(o.inf_, nullptr);
		}
		return *this;
	}
	~Infection() { release(); }

	// The argument area shared with the blob.
	template <typename T = void> T *args() const { return static_cast<T *>(compel_args(inf_)); }
	size_t args_size() const { return compel_args_size(inf_); }
	uint64_t blob_base() const { return compel_blob_base(inf_); }

	int call(unsigned int cmd)
	{
		int ret = 0;
		detail::check(compel_call(inf_, cmd, &ret));
		return ret;
	}
	void daemon_start() { detail::check(compel_daemon_start(inf_)); }
	void daemon_stop() { detail::check(compel_daemon_stop(inf_)); }
	void send_fds(const int *fds, unsigned int n) { detail::check(compel_send_fds(inf_, fds, n)); }
	void recv_fds(int *fds, unsigned int n) { detail::check(compel_recv_fds(inf_, fds, n)); }
	void set_log_handler(compel_log_handler h, void *data) { compel_set_log_handler(inf_, h, data); }

	// Cures now, reporting failure; the destructor cures quietly.
	void cure() { detail::check(compel_cure(std::exchange(inf_, nullptr))); }

	compel_infection *get() const { return inf_; }

private:
	friend class Task;
	explicit Infection(compel_infection *inf) : inf_(inf) {}
	void release() noexcept
	{
		if (inf_)
			compel_cure(std::exchange(inf_, nullptr));
	}

	compel_infection *inf_;
};

class Task {
public:
	static Task seize(pid_t pid, unsigned flags = 0)
	{
		compel_task *t = nullptr;
		detail::check(compel_seize(pid, flags, &t));
		return Task(t);
	}

	Task(Task &&o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
	Task &operator=(Task &&o) noexcept
	{
		if (this != &o) {
			release();
			task_ = std::exchange(o.task_, nullptr);
		}
		return *this;
	}
	// An Infection of this task must be gone (cured) before the task is.
	~Task() { release(); }

	pid_t pid() const { return compel_task_pid(task_); }
	compel_arch arch() const { return compel_task_arch(task_); }

	std::vector<pid_t> threads() const
	{
		std::vector<pid_t> tids(16);
		size_t n;
		while ((n = size_t(compel_task_threads(task_, tids.data(), tids.size()))) > tids.size())
			tids.resize(n);
		tids.resize(n);
		return tids;
	}

	compel_thread_info thread_info(pid_t tid = 0) const
	{
		compel_thread_info info;
		detail::check(compel_get_thread_info(task_, tid, &info));
		return info;
	}

	// The kernel's result of a syscall run in the leader (or thread tid).
	int64_t syscall(compel_sys sys, std::initializer_list<uint64_t> args, pid_t tid = 0)
	{
		uint64_t a[6] = {};
		size_t i = 0;
		for (uint64_t v : args)
			if (i < 6)
				a[i++] = v;
		int64_t r;
		detail::check(compel_syscall_in(task_, tid, sys, a, &r));
		return r;
	}

	void read_memory(uint64_t addr, void *buf, size_t len) { detail::check(compel_read_memory(task_, addr, buf, len)); }
	void write_memory(uint64_t addr, const void *buf, size_t len)
	{
		detail::check(compel_write_memory(task_, addr, buf, len));
	}

	void resume() { detail::check(compel_resume(task_)); }
	void interrupt() { detail::check(compel_interrupt(task_)); }

	Infection infect(const compel_blob_desc *const *blobs, compel_infect_opts opts = {})
	{
		compel_infection *inf = nullptr;
		detail::check(compel_infect(task_, blobs, &opts, &inf));
		return Infection(inf);
	}

	// Detaches now, reporting failure; the destructor detaches quietly.
	void detach() { detail::check(compel_detach(std::exchange(task_, nullptr))); }

	compel_task *get() const { return task_; }

private:
	explicit Task(compel_task *t) : task_(t) {}
	void release() noexcept
	{
		if (task_)
			compel_detach(std::exchange(task_, nullptr));
	}

	compel_task *task_;
};

} // namespace compel
