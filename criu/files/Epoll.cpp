// epoll: the files it watches, with their events and data.  A target is
// added once its own file is restored, with the number it was added with.
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
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

FileEntry *dump_epoll(DumpedFd &d)
{
	EpollEntry e = EPOLL_ENTRY__INIT;
	e.flags = d.flags;
	e.n_targets = d.info.epoll.size();
	e.targets = d.c.arena.messages(e.n_targets, EpollTargetEntry(EPOLL_TARGET_ENTRY__INIT));
	for (size_t i = 0; i < e.n_targets; i++) {
		const proc::EpollTarget &t = d.info.epoll[i];
		// fdinfo names a target by the number it had when it was added: the
		// process may have closed it since, or put another file there.
		kcmp_epoll_slot slot = {uint32_t(d.fd), uint32_t(t.fd), 0};
		if (syscall(SYS_kcmp, d.c.pid, d.c.pid, KCMP_EPOLL_TFD, t.fd, &slot) != 0)
			d.refuse(format("is an epoll that watches a file no longer open as fd %d: not supported", t.fd));
		e.targets[i]->fd = uint32_t(t.fd);
		e.targets[i]->events = t.events;
		e.targets[i]->data = t.data;
	}
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__EPOLL;
	f.epoll = d.c.arena.make(e);
	return d.c.arena.make(f);
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
