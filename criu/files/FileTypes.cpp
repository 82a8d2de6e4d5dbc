#include "FileTypes.h"

#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

DumpedFd::DumpedFd(DumpContext &ctx, int n, const std::string &proc_link, const proc::FdInfo &fdinfo)
	: c(ctx), fd(n), link(proc_link), info(fdinfo), flags(fdinfo.flags & ~uint32_t(O_CLOEXEC))
{
}

DumpedFd DumpedFd::in_flight(DumpContext &ctx, int local_fd)
{
	DumpedFd d(ctx, local_fd, format("/proc/self/fd/%d", local_fd), proc::read_fdinfo(getpid(), local_fd));
	d.flying = d.local = true;
	d.called = "a descriptor in flight in a unix socket";
	return d;
}

DumpedFd DumpedFd::mapped(DumpContext &ctx, int local_fd, const std::string &what)
{
	DumpedFd d(ctx, local_fd, format("/proc/self/fd/%d", local_fd), proc::read_fdinfo(getpid(), local_fd));
	d.local = true;
	d.called = what;
	char target[PATH_MAX];
	ssize_t n = readlink(d.link.c_str(), target, sizeof(target) - 1);
	if (n < 0 || fstat(local_fd, &d.st) != 0)
		d.fail("cannot look at the file it maps", errno);
	d.target.assign(target, size_t(n));
	return d;
}

int DumpedFd::copy()
{
	if (local)
		return fd;
	if (!copy_) {
		copy_.reset(int(syscall(SYS_pidfd_getfd, c.task.pidfd(), fd, 0)));
		if (!copy_)
			fail("cannot get a copy of it (pidfd_getfd)", errno);
	}
	return copy_.get();
}

uint32_t DumpedFd::inode_id(bool &first)
{
	auto [it, added] = c.inode_ids.try_emplace({uint64_t(st.st_dev), uint64_t(st.st_ino)},
						   uint32_t(c.inode_ids.size() + 1));
	first = added;
	return it->second;
}

// What messages call the descriptor.
std::string DumpedFd::name() const { return called.empty() ? format("fd %d", fd) : called; }

void DumpedFd::fail(const std::string &what, int err) const { c.fail(name() + ": " + what, err); }

void DumpedFd::refuse(const std::string &what) const { c.refuse(name() + " " + what); }

FownEntry *dump_fown(DumpedFd &d)
{
	f_owner_ex owner;
	if (fcntl(d.copy(), F_GETOWN_EX, &owner) < 0)
		d.fail("cannot read its owner (F_GETOWN_EX)", errno);
	int sig = fcntl(d.copy(), F_GETSIG);
	if (sig < 0)
		d.fail("cannot read its signal (F_GETSIG)", errno);
	if (!owner.pid && !sig)
		return nullptr;
	FownEntry o = FOWN_ENTRY__INIT;
	o.type = uint32_t(owner.type);
	o.pid = uint32_t(owner.pid);
	o.signum = uint32_t(sig);
	return d.c.arena.make(o);
}

std::unique_ptr<FileDesc> FileDescFactory::make(const FileEntry &e)
{
	switch (e.type) {
	case FILE_ENTRY__TYPE_T__REG:
		return reg_desc(e);
	case FILE_ENTRY__TYPE_T__EXTERNAL:
		return external_desc(e);
	case FILE_ENTRY__TYPE_T__PIPE:
	case FILE_ENTRY__TYPE_T__FIFO:
		return pipe_desc(e, pipes_[e.pipe->pipe_id]);
	case FILE_ENTRY__TYPE_T__EVENTFD:
		return eventfd_desc(e);
	case FILE_ENTRY__TYPE_T__SIGNALFD:
		return signalfd_desc(e);
	case FILE_ENTRY__TYPE_T__TIMERFD:
		return timerfd_desc(e);
	case FILE_ENTRY__TYPE_T__INOTIFY:
		return inotify_desc(e);
	case FILE_ENTRY__TYPE_T__EPOLL:
		return epoll_desc(e);
	case FILE_ENTRY__TYPE_T__MEMFD:
		return memfd_desc(e, memfds_[e.memfd->inode_id]);
	case FILE_ENTRY__TYPE_T__UNIX_SK:
		return unix_socket_desc(e, unix_sockets_);
	case FILE_ENTRY__TYPE_T__NETLINK_SK:
		return netlink_socket_desc(e);
	case FILE_ENTRY__TYPE_T__TTY:
		return tty_desc(e, ptys_[e.tty->index]);
	default:
		break;
	}
	throw Error(format("internal: file %u has type %d", e.id, e.type), EINVAL);
}

void set_status_flags(int fd, uint32_t flags)
{
	if (fcntl(fd, F_SETFL, int(flags & (O_APPEND | O_NONBLOCK | O_NOATIME))) < 0)
		throw Error(format("cannot set the flags 0%o", flags), errno);
}

uint32_t status_flags(const FileEntry &e)
{
	switch (e.type) {
	case FILE_ENTRY__TYPE_T__REG:
		return e.reg->flags;
	case FILE_ENTRY__TYPE_T__EXTERNAL:
		return e.external->flags;
	case FILE_ENTRY__TYPE_T__PIPE:
	case FILE_ENTRY__TYPE_T__FIFO:
		return e.pipe->flags;
	case FILE_ENTRY__TYPE_T__EVENTFD:
		return e.eventfd->flags;
	case FILE_ENTRY__TYPE_T__SIGNALFD:
		return e.signalfd->flags;
	case FILE_ENTRY__TYPE_T__TIMERFD:
		return e.timerfd->flags;
	case FILE_ENTRY__TYPE_T__INOTIFY:
		return e.inotify->flags;
	case FILE_ENTRY__TYPE_T__EPOLL:
		return e.epoll->flags;
	case FILE_ENTRY__TYPE_T__MEMFD:
		return e.memfd->flags;
	case FILE_ENTRY__TYPE_T__UNIX_SK:
		return e.unix_sk->flags;
	case FILE_ENTRY__TYPE_T__NETLINK_SK:
		return e.netlink_sk->flags;
	case FILE_ENTRY__TYPE_T__TTY:
		return e.tty->flags;
	default:
		return 0;
	}
}

int reopen(int fd, uint32_t flags)
{
	uint32_t open_flags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	int out = open(format("/proc/self/fd/%d", fd).c_str(), int(open_flags | O_CLOEXEC));
	if (out < 0)
		throw Error(format("cannot open descriptor %d again with flags 0%o", fd, flags), errno);
	return out;
}

} // namespace criu
