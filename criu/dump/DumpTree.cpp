// Finding and freezing the process tree under the dumped pid.
#include "DumpTree.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <compel/error.hpp>

#include "Log.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// What this criu cannot dump yet is refused before the process is read.
void check_supported(pid_t pid, const proc::Status &st, const proc::Stat &stat)
{
	auto refuse = [pid](const std::string &why, int err = ENOTSUP) {
		throw Error::described(format("pid %d ", pid) + why, err);
	};
	if (st.kernel_thread)
		refuse("is a kernel thread: there is nothing of it to dump", EPERM);
	if (st.threads > 1 && stat.state == 'Z')
		refuse(format("has ended its main thread (pthread_exit) while %d other threads run: not supported yet",
			      st.threads - 1));
	if (st.nspid.size() > 1)
		refuse("lives in a child pid namespace: not supported yet");
	if (pid == getpid())
		refuse("is this criu, which cannot dump itself: run criu from outside the tree", EPERM);
}

// The children of every thread of pid (a child's parent is the thread
// that forked it).
std::vector<pid_t> children_of(pid_t pid)
{
	std::vector<pid_t> out;
	std::error_code gone; // a zombie has no threads to list, and no children
	for (const auto &task : std::filesystem::directory_iterator(format("/proc/%d/task", pid), gone)) {
		std::ifstream f(task.path() / "children");
		pid_t child;
		while (f >> child)
			out.push_back(child);
	}
	return out;
}

} // namespace

DumpTree::DumpTree(pid_t root)
{
	if (!add(root))
		throw Error::described(format("pid %d does not exist", root), ESRCH);
	if (procs_.front().zombie())
		throw Error::described(format("pid %d is a zombie: it has exited and waits to be reaped", root), ESRCH);
	for (bool found = true; found;) {
		found = false;
		for (size_t i = 0; i < procs_.size(); i++)
			found |= add_children(i);
	}
	LOG_INFO("pid %d: a tree of %zu processes, all stopped", root, procs_.size());
}

bool DumpTree::add_children(size_t parent)
{
	if (procs_[parent].zombie())
		return false;
	bool found = false;
	for (pid_t child : children_of(procs_[parent].pid)) {
		if (std::any_of(procs_.begin(), procs_.end(), [&](const TreeProcess &p) { return p.pid == child; }))
			continue;
		found |= add(child);
	}
	return found;
}

// pid's state (R, S, Z...), or 0 if it is gone: a child of a stopped
// process that has ended is a zombie, unless its parent ignores SIGCHLD.
char state_of(pid_t pid)
{
	try {
		return proc::read_stat(pid).state;
	} catch (const Error &e) {
		if (e.err() != ENOENT && e.err() != ESRCH)
			throw;
		return 0;
	}
}

bool DumpTree::add(pid_t pid)
{
	TreeProcess p;
	p.pid = pid;
	if (!state_of(pid))
		return false;
	p.status = proc::read_status(pid);
	p.stat = proc::read_stat(pid);
	check_supported(pid, p.status, p.stat);
	if (p.stat.state != 'Z') {
		try {
			p.task = compel::core::Task::seize(pid, 0);
		} catch (const Error &e) {
			// It has ended since it was listed: its parent is stopped and
			// cannot have reaped it, so it is a zombie, or one in a moment
			// (it may still be on its way out), or gone.
			if (e.err() != ESRCH)
				throw;
			char state;
			for (int tries = 0; (state = state_of(pid)) && state != 'Z'; tries++) {
				if (tries == 1000)
					throw Error(format("pid %d: cannot seize it, and it does not end", pid), ESRCH);
				usleep(1000);
			}
			if (!state)
				return false;
		}
		// Stopped (or ended): what /proc says of it holds until the end.
		p.status = proc::read_status(pid);
		p.stat = proc::read_stat(pid);
	}
	LOG_DEBUG("pid %d: %s, parent %d, group %d, session %d", pid, p.task ? "seized" : "a zombie", p.stat.ppid,
		  p.stat.pgid, p.stat.sid);
	procs_.push_back(std::move(p));
	return true;
}

} // namespace criu
