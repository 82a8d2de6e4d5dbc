// epoll: the files it watches, with their events and data.  A target is
// added once its own file is restored, with the number it was added with.
#include <map>
#include <optional>
#include <set>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <linux/kcmp.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "Log.h"
#include "Proc.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// A descriptor of the tree that has the file of target slot: usually the
// epoll's own process at the number the target was added with; else any
// (another process added it with its own number, or the file has moved).
std::optional<std::pair<pid_t, int>> find_target(DumpedFd &d, kcmp_epoll_slot slot)
{
	auto is_it = [&](pid_t pid, int fd) {
		return syscall(SYS_kcmp, pid, d.c.pid, KCMP_EPOLL_TFD, fd, &slot) == 0;
	};
	if (is_it(d.c.pid, int(slot.tfd)))
		return std::pair{d.c.pid, int(slot.tfd)};
	for (pid_t pid : d.c.pids)
		for (int fd : proc::list_fds(pid))
			if (is_it(pid, fd))
				return std::pair{pid, fd};
	return std::nullopt;
}

} // namespace

FileEntry *dump_epoll(DumpedFd &d)
{
	EpollEntry e = EPOLL_ENTRY__INIT;
	e.flags = d.flags;
	e.n_targets = d.info.epoll.size();
	e.targets = d.c.arena.messages(e.n_targets, EpollTargetEntry(EPOLL_TARGET_ENTRY__INIT));
	std::map<int, uint32_t> seen; // targets added with each number so far
	for (size_t i = 0; i < e.n_targets; i++) {
		const proc::EpollTarget &t = d.info.epoll[i];
		// fdinfo names a target by the number it had when it was added, in
		// the process that added it, which may have closed it since or put
		// another file there.  Targets with one number are told apart by
		// their order, which kcmp and fdinfo share.
		kcmp_epoll_slot slot = {uint32_t(d.fd), uint32_t(t.fd), seen[t.fd]++};
		auto where = find_target(d, slot);
		if (!where)
			d.refuse(format("is an epoll that watches a file (added as fd %d) no process of the tree has open: not "
					"supported",
					t.fd));
		e.targets[i]->fd = uint32_t(t.fd);
		e.targets[i]->events = t.events;
		e.targets[i]->data = t.data;
		d.c.epoll_targets.push_back({nullptr, e.targets[i], where->first, where->second});
		LOG_DEBUG("pid %d fd %d: epoll target %d is fd %d of pid %d", d.c.pid, d.fd, t.fd, where->second, where->first);
	}
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__EPOLL;
	f.epoll = d.c.arena.make(e);
	for (size_t i = d.c.epoll_targets.size() - e.n_targets; i < d.c.epoll_targets.size(); i++)
		d.c.epoll_targets[i].epoll = f.epoll;
	return d.c.arena.make(f);
}

void name_epoll_targets(DumpShared &s)
{
	std::map<std::pair<pid_t, int>, uint32_t> ids;
	std::map<uint32_t, std::set<pid_t>> users; // by file id
	for (const DumpShared::SeenFd &o : s.seen_fds) {
		ids[{o.pid, o.fd}] = o.id;
		users[o.id].insert(o.pid);
	}
	for (const DumpShared::EpollTarget &t : s.epoll_targets) {
		auto it = ids.find({t.pid, t.fd});
		if (it == ids.end())
			throw Error(format("internal: pid %d fd %d, an epoll's target, was not dumped", t.pid, t.fd), EINVAL);
		t.entry->has_file_id = true;
		t.entry->file_id = it->second;
	}
	// Restore makes an epoll in criu when its process cannot add every
	// target from its number (it is shared, or a target moved), and criu
	// has no files of the outside but its own: refused now, not then.
	std::map<const EpollEntry *, pid_t> owner;
	for (const FileEntry *f : s.files.entries())
		if (f->epoll && !users[f->id].empty())
			owner[f->epoll] = users[f->id].size() == 1 ? *users[f->id].begin() : 0;
	std::set<const EpollEntry *> by_criu;
	for (const DumpShared::EpollTarget &t : s.epoll_targets)
		if (t.pid != owner[t.epoll] || t.fd != int(t.entry->fd))
			by_criu.insert(t.epoll);
	for (const DumpShared::EpollTarget &t : s.epoll_targets)
		if (by_criu.count(t.epoll) && s.files.entries()[t.entry->file_id - 1]->type == FILE_ENTRY__TYPE_T__EXTERNAL)
			throw Error::described(format("pid %d: fd %d, shared with the outside, is the target of an epoll that "
						      "processes share or whose targets moved: not supported yet",
						      t.pid, t.fd),
					       ENOTSUP);
}

namespace {

class Epoll : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const EpollEntry &e = *entry.epoll;
		if (fd < 0) {
			int ep = epoll_create1(EPOLL_CLOEXEC);
			if (ep < 0)
				throw Error("cannot make an epoll", errno);
			ep = engine.park(ep);
			try {
				set_status_flags(ep, e.flags);
			} catch (const Error &) {
				close(ep);
				throw;
			}
			engine.hand_out(*this, ep);
			added_.assign(e.n_targets, false);
		}
		waiting_.clear();
		for (size_t i = 0; i < e.n_targets; i++) {
			const EpollTargetEntry &t = *e.targets[i];
			if (added_[i])
				continue;
			FileDesc *target = t.has_file_id ? engine.file_by_id(t.file_id) : engine.file_at(int(t.fd));
			if (!target && t.has_file_id)
				throw Error(format("it watches file %u, which is not restored with it", t.file_id), EINVAL);
			if (!target)
				throw Error(format("it watches fd %u, which the process does not have", t.fd), EINVAL);
			if (!target->done) {
				waiting_ = t.has_file_id ? format("file %u to be restored", t.file_id)
							 : format("fd %u to be restored", t.fd);
				continue;
			}
			add(engine, *target, t);
			added_[i] = true;
		}
		return waiting_.empty() ? Step::Done : Step::NotYet;
	}

	std::string waits_for() const override { return waiting_; }

private:
	// The kernel keys the target by its file and the number it was added
	// with, which later EPOLL_CTL_MOD and DEL name.  Where the target is on
	// that number (its process's engine), it is added from there; else (criu
	// making the epoll for several processes, whose numbers are not criu's)
	// a thread puts it on that number in its own copy of the descriptor
	// table, and adds it from there.
	void add(const FdinfoEngine &engine, const FileDesc &target, const EpollTargetEntry &t) const
	{
		epoll_event ev = {t.events, {.u64 = t.data}};
		int tfd = int(t.fd), err = 0;
		if (engine.file_at(tfd) == &target) {
			if (epoll_ctl(fd, EPOLL_CTL_ADD, tfd, &ev) != 0)
				err = errno;
		} else {
			std::thread([&] {
				int ep = fd;
				if (unshare(CLONE_FILES) != 0 || (ep == tfd && (ep = dup(fd)) < 0) ||
				    (target.fd != tfd && dup2(target.fd, tfd) < 0) ||
				    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
					err = errno;
			}).join();
		}
		if (err)
			throw Error(t.has_file_id
					    ? format("cannot watch file %u as fd %u for events %x", t.file_id, t.fd, t.events)
					    : format("cannot watch fd %u for events %x", t.fd, t.events),
				    err);
	}

	std::vector<bool> added_;
	std::string waiting_;
};

} // namespace

std::unique_ptr<FileDesc> epoll_desc(const FileEntry &e) { return std::make_unique<Epoll>(e); }

} // namespace criu
