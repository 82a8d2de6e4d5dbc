#include "Restore.h"

#include <csignal>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "Log.h"
#include "RestoreImages.h"
#include "RestoreTree.h"
#include "Stats.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

std::string user_of(pid_t pid)
{
	std::ifstream comm(format("/proc/%d/comm", pid));
	std::string name;
	std::getline(comm, name);
	return name.empty() ? "" : " (by " + name + ")";
}

bool in_use(pid_t pid) { return !(kill(pid, 0) != 0 && errno == ESRCH); }

// Every pid and tid of the tree, and those of the helpers it needs; one
// taken later makes clone3 fail, which says so.
void check_pids_free(const RestoreTree &tree, const std::set<pid_t> &helpers)
{
	for (const RestoreImages &img : tree.procs) {
		for (size_t i = 0; i < img.pstree->n_threads; i++) {
			pid_t tid = pid_t(img.pstree->threads[i]->levels[0]);
			if (!in_use(tid))
				continue;
			if (tid == img.pid)
				throw Error(format("pid %d is in use%s: cannot restore the process with its pid", tid,
						   user_of(tid).c_str()),
					    EEXIST);
			throw Error(format("tid %d is in use%s: cannot restore thread %d of pid %d", tid,
					   user_of(tid).c_str(), tid, img.pid),
				    EEXIST);
		}
	}
	for (pid_t pid : helpers)
		if (in_use(pid))
			throw Error(format("pid %d is in use%s: criu needs it for a helper that leads session or process "
					   "group %d again while the tree is made",
					   pid, user_of(pid).c_str(), pid),
				    EEXIST);
}

} // namespace

int restore(const Options &opts)
{
	uint64_t start = monotonic_us();
	ImagesDir dir(opts.images_dir, false);
	RestoreTree tree = read_images(dir);
	check_pids_free(tree, TreeRestorer::helper_pids(tree, opts.shell_job));
	pid_t pid = tree.procs.front().pid;
	LOG_DEBUG("%zu processes: images read and checked", tree.procs.size());
	{
		TreeRestorer restorer(tree, dir, opts.shell_job);
		restorer.create();
		restorer.restore(opts.leave_stopped);
	}
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	rs.restore_time = monotonic_us() - start;
	rs.pages_restored = tree.data_pages;
	StatsEntry stats = STATS_ENTRY__INIT;
	stats.restore = &rs;
	write_stats(dir, stats);
	LOG_INFO("Restored pid %d and %zu other processes in %.3f s", pid, tree.procs.size() - 1,
		 double(rs.restore_time) / 1e6);
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
