#include "Dump.h"

#include <algorithm>
#include <csignal>
#include <optional>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <ctime>
#include <map>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "DumpTree.h"
#include "FileTypes.h"
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

// An image of the whole tree.
void write_image(DumpShared &s, ImagesDir &dir, ImageKind kind, const std::string &name,
		 const std::vector<const ProtobufCMessage *> &entries)
{
	ImageWriter w(dir.fd(), dir.path(), kind, name);
	s.written.push_back(name);
	for (const ProtobufCMessage *m : entries)
		w.write(m);
	w.commit();
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

NsPid *ns_pid(Arena &arena, pid_t pid)
{
	NsPid p = NS_PID__INIT;
	p.n_levels = 1;
	p.levels = arena.array<uint32_t>(1);
	p.levels[0] = uint32_t(pid);
	return arena.make(p);
}

void write_inventory(DumpShared &s, ImagesDir &dir, const TreeProcess &root)
{
	utsname u;
	uname(&u);
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.format_version = kFormatVersion;
	inv.tool_version = s.arena.str(PROJECT_VERSION);
	inv.root_pid = ns_pid(s.arena, root.pid);
	inv.arch = root.task->arch().id();
	inv.page_size = uint32_t(sysconf(_SC_PAGESIZE));
	inv.kernel = s.arena.str(u.release);
	inv.has_dump_time = true;
	inv.dump_time = uint64_t(time(nullptr));
	write_image(s, dir, ImageKind::Inventory, "inventory.img", {&inv.base});
}

// One entry per process, parents first; the root's parent is outside the
// dump (0).
void write_pstree(DumpShared &s, ImagesDir &dir, const std::vector<TreeProcess> &procs)
{
	std::vector<const ProtobufCMessage *> entries;
	for (const TreeProcess &t : procs) {
		PstreeEntry p = PSTREE_ENTRY__INIT;
		p.pid = ns_pid(s.arena, t.pid);
		p.ppid = &t == &procs.front() ? 0 : uint32_t(t.stat.ppid);
		p.pgid = uint32_t(t.stat.pgid);
		p.sid = uint32_t(t.stat.sid);
		// The leader first; every thread has one pid level, as the process.
		std::vector<pid_t> tids = t.task ? t.task->tids() : std::vector<pid_t>{t.pid};
		p.n_threads = tids.size();
		p.threads = s.arena.array<NsPid *>(tids.size());
		for (size_t i = 0; i < tids.size(); i++)
			p.threads[i] = ns_pid(s.arena, tids[i]);
		if (auto ctty = s.ctty_files.find(t.pid); ctty != s.ctty_files.end()) {
			p.has_ctty_file = true;
			p.ctty_file = ctty->second->id;
		}
		if (t.zombie()) {
			p.has_zombie_status = true;
			p.zombie_status = uint32_t(t.stat.exit_code);
			p.zombie_comm = s.arena.str(t.stat.comm);
		}
		entries.push_back(&s.arena.make(p)->base);
	}
	write_image(s, dir, ImageKind::Pstree, "pstree.img", entries);
}

void write_files(DumpShared &s, ImagesDir &dir)
{
	std::vector<const ProtobufCMessage *> entries;
	for (FileEntry *f : s.files.entries())
		entries.push_back(&f->base);
	write_image(s, dir, ImageKind::Files, "files.img", entries);
}

// Everything of one live process: memory, a core per thread, files, fs.
void dump_process(const Options &opts, ImagesDir &dir, DumpShared &s, compel::core::Task &task, pid_t parent)
{
	DumpContext c(opts, dir, task, parent, s);
	MmEntry *mm = collect_mm(c);
	std::map<pid_t, ThreadMisc> threads;
	dump_misc misc = run_parasite(c, proc::read_timers(c.pid), *mm, threads);
	dump_files(c);
	c.write_image(ImageKind::Mm, format("mm-%d.img", c.pid), {&mm->base});
	dump_core(c, misc, threads);
	s.mms[c.pid] = mm;
}

// The controlling terminal of each session a process of the tree leads
// and restore makes again (not the root's with --shell-job: criu restore's
// is its): a file of that pty slave, which the leader takes as such before
// it has children (the others of its session have it through it), whether
// it holds one open or not.
void find_ctty_files(const Options &opts, DumpShared &s, const std::vector<TreeProcess> &procs)
{
	for (const TreeProcess &p : procs) {
		if (p.zombie() || p.stat.sid != p.pid || !p.stat.tty_nr || (opts.shell_job && &p == &procs.front()))
			continue;
		// tty_nr packs the minor's high bits above bit 20.
		dev_t dev = makedev((p.stat.tty_nr >> 8) & 0xfff, (p.stat.tty_nr & 0xff) | ((p.stat.tty_nr >> 12) & 0xfff00));
		if (auto slave = s.pty_slaves.find(dev); slave != s.pty_slaves.end()) {
			s.ctty_files[p.pid] = slave->second;
		} else if (auto closed = s.closed_slaves.find(dev); closed != s.closed_slaves.end()) {
			// Held by no one: restore takes it through a slave of its own.
			s.files.add(closed->second);
			s.ctty_files[p.pid] = closed->second;
			s.closed_slaves.erase(closed);
		} else {
			throw Error::described(format("pid %d leads a session whose controlling terminal (device %u:%u) is "
						      "no pty of the dumped tree's, or one whose slave is open outside it: "
						      "not supported yet",
						      p.pid, major(dev), minor(dev)),
					       ENOTSUP);
		}
	}
}

// Restore makes a socket after the files in flight in it: one that is,
// further down, in flight in itself (sent through itself or its peer)
// cannot be made again.
void check_sockets_in_flight(const DumpShared &s)
{
	std::map<uint32_t, const FileEntry *> by_id;
	for (const FileEntry *f : s.files.entries())
		by_id[f->id] = f;
	if (uint32_t ino = unix_socket_carrying_itself(by_id))
		throw Error::described(format("socket:[%u] is in flight in what it, its peer or its listener has received, "
					      "or in a socket in flight there: restoring it is not supported yet",
					      ino),
				       ENOTSUP);
}

// After a good dump: what the user asked to happen to the processes.
void finish(const Options &opts, std::vector<TreeProcess> &procs)
{
	for (TreeProcess &p : procs) {
		if (p.zombie())
			continue;
		if (opts.leave_running) {
			p.task->detach();
		} else if (opts.leave_stopped) {
			// Queued while still seized: it takes effect when the task goes.
			if (kill(p.pid, SIGSTOP) != 0)
				throw Error(format("pid %d: cannot stop it", p.pid), errno);
			p.task->detach();
		} else {
			if (kill(p.pid, SIGKILL) != 0)
				throw Error(format("pid %d: cannot kill it after the dump", p.pid), errno);
			p.task->abandon();
		}
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
	ImagesDir dir(opts.images_dir, true);

	LOG_INFO("Seizing the tree of pid %d", pid);
	uint64_t start = monotonic_us();
	DumpTree tree(pid);
	std::vector<TreeProcess> &procs = tree.processes();
	uint64_t frozen = monotonic_us();
	DumpShared s;
	for (TreeProcess &p : procs)
		if (!p.zombie())
			s.pids.push_back(p.pid);
	std::optional<Progress> progress;
	if (Progress::wanted()) {
		uint64_t total = 0;
		for (pid_t p : s.pids)
			total += proc::anonymous_bytes(p);
		s.progress = &progress.emplace("dumping memory", total);
	}
	try {
		for (TreeProcess &p : procs) {
			if (p.zombie())
				continue;
			bool live_parent = &p != &procs.front() && std::count(s.pids.begin(), s.pids.end(), p.stat.ppid);
			dump_process(opts, dir, s, *p.task, live_parent ? p.stat.ppid : 0);
		}
		find_ctty_files(opts, s, procs);
		check_sockets_in_flight(s);
		name_epoll_targets(s);
		write_files(s, dir);
		write_inventory(s, dir, procs.front());
		write_pstree(s, dir, procs);
	} catch (const Error &) {
		for (const auto &name : s.written)
			dir.remove(name);
		for (TreeProcess &p : procs)
			if (!p.zombie())
				p.task->detach(); // the process goes on as before
		throw;
	}
	progress.reset();
	LOG_INFO("Dumped %zu processes of pid %d into %s", procs.size(), pid, dir.path().c_str());
	finish(opts, procs);

	DumpStatsEntry ds = DUMP_STATS_ENTRY__INIT;
	ds.freezing_time = frozen - start;
	ds.frozen_time = monotonic_us() - frozen;
	ds.memdump_time = s.pages.time_us;
	ds.pages_scanned = s.pages.scanned, ds.pages_zero = s.pages.zero, ds.pages_written = s.pages.written;
	ds.has_pages_inherited = s.pages.inherited != 0;
	ds.pages_inherited = s.pages.inherited;
	StatsEntry stats = STATS_ENTRY__INIT;
	stats.dump = &ds;
	write_stats(dir, stats);
	LOG_INFO("pid %d was frozen for %.3f s", pid, double(ds.frozen_time) / 1e6);
}

} // namespace criu
