#include "Dump.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/utsname.h>
#include <ctime>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "Infection.h"
#include "Log.h"
#include "Proc.h"
#include "Stats.h"
#include "dump-parasite.h"
#include "dump-protocol.h"
#include "format.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

namespace criu {

using compel::Error;
using compel::format;

void DumpContext::fail(const std::string &what, int err) const
{
	throw Error(format("pid %d: ", pid) + what, err);
}

void DumpContext::refuse(const std::string &what) const
{
	throw Error::described(format("pid %d: ", pid) + what, ENOTSUP);
}

void DumpContext::write_image(ImageKind kind, const std::string &name,
			      const std::vector<const ProtobufCMessage *> &entries)
{
	ImageWriter w(dir.fd(), dir.path(), kind, name);
	written.push_back(name);
	for (const ProtobufCMessage *m : entries)
		w.write(m);
	w.commit();
}

uint32_t FileTable::add(FileEntry *entry)
{
	entry->id = uint32_t(entries_.size() + 1);
	entries_.push_back(entry);
	return entry->id;
}

namespace {

// What this criu cannot dump yet is refused before the process is touched.
void check_supported(pid_t pid, const proc::Status &st)
{
	auto refuse = [pid](const std::string &why, int err = ENOTSUP) {
		throw Error::described(format("pid %d ", pid) + why, err);
	};
	if (st.kernel_thread)
		refuse("is a kernel thread: there is nothing of it to dump", EPERM);
	if (st.threads > 1 && proc::read_stat(pid).state == 'Z')
		refuse(format("has ended its main thread (pthread_exit) while %d other threads run: not supported yet",
			      st.threads - 1));
	std::error_code gone; // then seizing it fails, and says so
	for (const auto &task : std::filesystem::directory_iterator(format("/proc/%d/task", pid), gone)) {
		std::ifstream children(task.path() / "children");
		std::string kids;
		std::getline(children, kids);
		if (!kids.empty())
			refuse("has child processes (" + kids + "): process trees are not supported yet");
	}
	if (st.nspid.size() > 1)
		refuse("lives in a child pid namespace: not supported yet");
}

// What only the process can tell, and its pages; the parasite is gone
// again when this returns.
dump_misc run_parasite(DumpContext &c, const std::vector<proc::PosixTimer> &timers, MmEntry &mm,
		       std::map<pid_t, ThreadMisc> &threads)
{
	if (timers.size() > DUMP_MAX_TIMERS)
		c.refuse(format("has %zu POSIX timers, more than the %d criu dumps", timers.size(), DUMP_MAX_TIMERS));
	compel::core::Infection &inf = c.task.infect(dump_parasite_blobs, {sizeof(dump_args), 0});
	auto *m = &static_cast<dump_args *>(inf.args())->misc;
	m->nr_timers = uint32_t(timers.size());
	for (size_t i = 0; i < timers.size(); i++)
		m->timer_ids[i] = timers[i].id;
	int ret = inf.call(DUMP_CMD_MISC);
	if (ret < 0)
		c.fail(format("the parasite failed at step %u", m->failed_step), -ret);
	dump_misc out = *m;
	mm.brk = out.brk;
	threads = collect_threads(c, inf);
	dump_memory(c, inf, mm);
	c.task.cure();
	return out;
}

void write_inventory_and_pstree(DumpContext &c, const proc::Stat &stat, const proc::Status &st)
{
	NsPid pid = NS_PID__INIT;
	pid.n_levels = st.nspid.size();
	pid.levels = c.arena.array<uint32_t>(pid.n_levels);
	for (size_t i = 0; i < pid.n_levels; i++)
		pid.levels[i] = uint32_t(st.nspid[i]);

	utsname u;
	uname(&u);
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.format_version = kFormatVersion;
	inv.tool_version = c.arena.str(PROJECT_VERSION);
	inv.root_pid = &pid;
	inv.arch = c.task.arch().id();
	inv.page_size = uint32_t(sysconf(_SC_PAGESIZE));
	inv.kernel = c.arena.str(u.release);
	inv.has_dump_time = true;
	inv.dump_time = uint64_t(time(nullptr));
	c.write_image(ImageKind::Inventory, "inventory.img", {&inv.base});

	PstreeEntry p = PSTREE_ENTRY__INIT;
	p.pid = &pid;
	p.ppid = 0;
	p.pgid = uint32_t(stat.pgid);
	p.sid = uint32_t(stat.sid);
	// The leader first; every thread has one pid level, as the process.
	std::vector<pid_t> tids = c.task.tids();
	p.n_threads = tids.size();
	p.threads = c.arena.array<NsPid *>(tids.size());
	p.threads[0] = &pid;
	for (size_t i = 1; i < tids.size(); i++) {
		NsPid t = NS_PID__INIT;
		t.n_levels = 1;
		t.levels = c.arena.array<uint32_t>(1);
		t.levels[0] = uint32_t(tids[i]);
		p.threads[i] = c.arena.make(t);
	}
	c.write_image(ImageKind::Pstree, "pstree.img", {&p.base});
}

void write_files(DumpContext &c)
{
	std::vector<const ProtobufCMessage *> entries;
	for (FileEntry *f : c.files.entries())
		entries.push_back(&f->base);
	c.write_image(ImageKind::Files, "files.img", entries);
}

// After a good dump: what the user asked to happen to the process.
void finish(const Options &opts, std::unique_ptr<compel::core::Task> task, pid_t pid)
{
	if (opts.leave_running) {
		task->detach();
	} else if (opts.leave_stopped) {
		// Queued while still seized: it takes effect when the task goes.
		if (kill(pid, SIGSTOP) != 0)
			throw Error(format("pid %d: cannot stop it", pid), errno);
		task->detach();
	} else {
		if (kill(pid, SIGKILL) != 0)
			throw Error(format("pid %d: cannot kill it after the dump", pid), errno);
		task->abandon();
	}
}

} // namespace

void dump(const Options &opts)
{
	if (!opts.tree)
		throw Error("dump: which process? (-t PID)", EINVAL);
	pid_t pid = opts.tree;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		throw Error::described(format("pid %d does not exist", pid), ESRCH);
	proc::Status st = proc::read_status(pid);
	check_supported(pid, st);
	ImagesDir dir(opts.images_dir, true);

	LOG_INFO("Seizing pid %d", pid);
	uint64_t start = monotonic_us();
	std::unique_ptr<compel::core::Task> task = compel::core::Task::seize(pid, 0);
	uint64_t frozen = monotonic_us();
	DumpContext c{opts, dir, *task, pid, {}, {}, {}, {}, {}};
	try {
		proc::Stat stat = proc::read_stat(pid);
		MmEntry *mm = collect_mm(c);
		std::map<pid_t, ThreadMisc> threads;
		dump_misc misc = run_parasite(c, proc::read_timers(pid), *mm, threads);
		dump_files(c);
		c.write_image(ImageKind::Mm, format("mm-%d.img", pid), {&mm->base});
		dump_core(c, misc, threads);
		write_files(c);
		write_inventory_and_pstree(c, stat, st);
	} catch (const Error &) {
		for (const auto &name : c.written)
			dir.remove(name);
		task->detach(); // the process goes on as before
		throw;
	}
	LOG_INFO("Dumped pid %d into %s", pid, dir.path().c_str());
	finish(opts, std::move(task), pid);

	DumpStatsEntry ds = DUMP_STATS_ENTRY__INIT;
	ds.freezing_time = frozen - start;
	ds.frozen_time = monotonic_us() - frozen;
	ds.memdump_time = c.pages.time_us;
	ds.pages_scanned = c.pages.scanned, ds.pages_zero = c.pages.zero, ds.pages_written = c.pages.written;
	StatsEntry stats = STATS_ENTRY__INIT;
	stats.dump = &ds;
	write_stats(dir, stats);
	LOG_INFO("pid %d was frozen for %.3f s", pid, double(ds.frozen_time) / 1e6);
}

} // namespace criu
