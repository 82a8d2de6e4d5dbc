// Open files, working directory and root of the dumped process.
#include <climits>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FileTypes.h"
#include "Log.h"
#include "Proc.h"
#include "format.h"

namespace criu {

using compel::format;

namespace {

constexpr int kKcmpFile = 0; // KCMP_FILE

std::string readlink_str(const std::string &path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
	if (n < 0)
		throw compel::Error("cannot read the link " + path, errno);
	return std::string(buf, size_t(n));
}

bool ends_with(const std::string &s, const std::string &tail)
{
	return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Character devices that are the same wherever the process is restored.
bool plain_device(const std::string &path)
{
	for (const char *d : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
		if (path == d)
			return true;
	return false;
}

bool is_tty(const std::string &path) { return path.rfind("/dev/pts/", 0) == 0 || path.rfind("/dev/tty", 0) == 0; }

// Whether a process of the tree has the pipe or FIFO of fd open the other
// way too: then the tree made the pipe itself (a shell pipeline), and does
// not share it with the outside.
bool holds_other_end(DumpContext &c, const struct stat &st, uint32_t flags)
{
	for (pid_t pid : c.pids)
		for (int other : proc::list_fds(pid)) {
			struct stat ost;
			if (stat(format("/proc/%d/fd/%d", pid, other).c_str(), &ost) == 0 && ost.st_dev == st.st_dev &&
			    ost.st_ino == st.st_ino &&
			    (proc::read_fdinfo(pid, other).flags & O_ACCMODE) != (flags & O_ACCMODE))
				return true;
		}
	return false;
}

// Open files that a process of the tree may share with another (inherited
// over fork): restore opens them once and hands them to each.
bool shareable(const FileEntry &f)
{
	switch (f.type) {
	case FILE_ENTRY__TYPE_T__REG:
	case FILE_ENTRY__TYPE_T__EXTERNAL:
	case FILE_ENTRY__TYPE_T__PIPE:
	case FILE_ENTRY__TYPE_T__FIFO:
	case FILE_ENTRY__TYPE_T__EVENTFD:
	case FILE_ENTRY__TYPE_T__SIGNALFD:
	case FILE_ENTRY__TYPE_T__TIMERFD:
	case FILE_ENTRY__TYPE_T__INOTIFY:
	case FILE_ENTRY__TYPE_T__EPOLL:
	case FILE_ENTRY__TYPE_T__MEMFD:
	case FILE_ENTRY__TYPE_T__TTY:
	case FILE_ENTRY__TYPE_T__UNIX_SK:
	case FILE_ENTRY__TYPE_T__NETLINK_SK:
		return true;
	default:
		return false;
	}
}

const char *type_name(const FileEntry &f)
{
	return protobuf_c_enum_descriptor_get_value(&file_entry__type_t__descriptor, f.type)->name;
}

} // namespace

// A deleted file the tree still has open or maps: its contents go into
// ghost-<id>.img, up to --ghost-limit, once for all its files.
void save_ghost(DumpContext &c, FileEntry *f, const std::string &proc_link, const std::string &what)
{
	auto [saved, fresh] = c.ghosts.try_emplace({f->reg->dev, f->reg->ino}, f->id);
	f->reg->has_ghost = true;
	f->reg->ghost = saved->second;
	if (!fresh)
		return;
	uint64_t size = f->reg->size;
	if (size > c.opts.ghost_limit)
		c.fail(format("%s: the deleted file %s has %llu bytes, more than --ghost-limit (%llu)", what.c_str(),
			      f->reg->path, (unsigned long long)size, (unsigned long long)c.opts.ghost_limit),
		       EFBIG);
	int src = open(proc_link.c_str(), O_RDONLY | O_CLOEXEC);
	if (src < 0)
		c.fail(format("%s: cannot open the deleted file %s", what.c_str(), f->reg->path), errno);
	std::string name = format("ghost-%u.img", f->id);
	ImageWriter w(c.dir.fd(), c.dir.path(), ImageKind::Ghost, name);
	c.written.push_back(name);
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		w.write_raw(buf, size_t(n));
	int err = n < 0 ? errno : 0;
	close(src);
	if (err)
		c.fail(format("%s: cannot read the deleted file %s", what.c_str(), f->reg->path), err);
	w.commit();
}

namespace {

int socket_domain(DumpedFd &d)
{
	int domain = 0;
	socklen_t len = sizeof(domain);
	if (getsockopt(d.copy(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		d.fail("cannot read the domain of " + d.target, errno);
	return domain;
}

// "a TCP socket", "a unix datagram socket"...: asked of criu's copy of it.
std::string socket_kind(DumpedFd &d)
{
	int domain = socket_domain(d), type = 0, protocol = 0;
	socklen_t len = sizeof(int);
	getsockopt(d.copy(), SOL_SOCKET, SO_TYPE, &type, &len);
	getsockopt(d.copy(), SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
	if (domain == AF_INET || domain == AF_INET6) {
		const char *proto = protocol == IPPROTO_TCP ? "TCP" : protocol == IPPROTO_UDP ? "UDP" : "raw IP";
		return format("a %s%s socket", domain == AF_INET6 ? "IPv6 " : "", proto);
	}
	const char *family = domain == AF_UNIX	   ? "unix "
			     : domain == AF_NETLINK ? "netlink "
			     : domain == AF_PACKET  ? "packet "
						    : "";
	const char *kind = type == SOCK_STREAM	   ? "stream"
			   : type == SOCK_DGRAM	   ? "datagram"
			   : type == SOCK_SEQPACKET ? "seqpacket"
						    : "raw";
	return format("a %s%s socket", family, kind);
}

// "an io_uring instance", "a pidfd"...: what an anonymous inode's name
// (anon_inode:[io_uring]) says it is.
std::string anon_inode_kind(const std::string &target)
{
	static const std::pair<const char *, const char *> kKinds[] = {
		{"anon_inode:[io_uring]", "an io_uring instance"}, {"anon_inode:[userfaultfd]", "a userfaultfd"},
		{"anon_inode:[pidfd]", "a pidfd"},		    {"anon_inode:[perf_event]", "a perf event"},
		{"anon_inode:[fanotify]", "a fanotify group"},	    {"anon_inode:bpf-map", "a BPF map"},
		{"anon_inode:bpf-prog", "a BPF program"},	    {"anon_inode:bpf_link", "a BPF link"},
		{"anon_inode:[vfio-device]", "a VFIO device"},	    {"anon_inode:kvm-vm", "a KVM virtual machine"},
	};
	for (const auto &[name, kind] : kKinds)
		if (target == name)
			return kind;
	return "an anonymous inode";
}

FileEntry *external(DumpContext &c, const std::string &key, uint32_t flags)
{
	ExternalEntry e = EXTERNAL_ENTRY__INIT;
	e.key = c.arena.str(key);
	e.flags = flags;
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__EXTERNAL;
	f.external = c.arena.make(e);
	return c.arena.make(f);
}

// The file entry of d, or a failure naming what is not supported.
FileEntry *describe(DumpContext &c, DumpedFd &d)
{
	int fd = d.fd;
	const proc::FdInfo &info = d.info;
	d.target = readlink_str(d.link);
	if (stat(d.link.c_str(), &d.st) != 0)
		d.fail("cannot stat " + d.target, errno);
	const struct stat &st = d.st;
	FileEntry *f = nullptr;
	if (is_memfd(d))
		f = dump_memfd(d);
	else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || (S_ISCHR(st.st_mode) && plain_device(d.target)))
		f = reg_file(c, d.target, d.link, d.flags, info.pos);
	// What the process shares with whoever started it: restored by the
	// restoring tool's own descriptors.
	else if (d.flying && !S_ISFIFO(st.st_mode) && !info.eventfd && !info.signalfd && !info.timerfd &&
		 d.target != "anon_inode:inotify" && !(S_ISSOCK(st.st_mode) && socket_domain(d) == AF_UNIX))
		d.refuse(format("is %s (%s): sending it is not supported yet",
				S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) ? "a character device" : "this kind of file",
				d.target.c_str()));
	else if (!d.flying && fd <= 2 && ((S_ISFIFO(st.st_mode) && !holds_other_end(c, st, d.flags)) || S_ISSOCK(st.st_mode)))
		return external(c, d.target, d.flags);
	else if (!d.flying && fd <= 2 && S_ISCHR(st.st_mode) && is_tty(d.target) && !is_tree_pty(d)) {
		if (!c.opts.shell_job)
			c.refuse(format("fd %d is the terminal %s: dump it with --shell-job", fd, d.target.c_str()));
		return external(c, d.target, d.flags);
	} else if (S_ISCHR(st.st_mode) && is_pty(d.target))
		f = dump_tty(d);
	else if (S_ISFIFO(st.st_mode))
		f = dump_pipe(d);
	else if (S_ISSOCK(st.st_mode) && socket_domain(d) == AF_UNIX) {
		bool first;
		d.inode_id(first); // refused if another process of the tree has it too
		f = dump_unix_socket(d);
	} else if (S_ISSOCK(st.st_mode) && socket_domain(d) == AF_NETLINK)
		f = dump_netlink_socket(d);
	else if (info.eventfd)
		f = dump_eventfd(d);
	else if (info.signalfd)
		f = dump_signalfd(d);
	else if (info.timerfd)
		f = dump_timerfd(d);
	else if (d.target == "anon_inode:inotify")
		f = dump_inotify(d);
	else if (d.target == "anon_inode:[eventpoll]")
		f = dump_epoll(d);
	if (f) {
		f->fown = dump_fown(d);
		dump_locks(d, *f);
		return f;
	}
	std::string what = S_ISSOCK(st.st_mode)  ? socket_kind(d)
			   : S_ISCHR(st.st_mode) ? "a character device"
			   : S_ISBLK(st.st_mode) ? "a block device"
						 : anon_inode_kind(d.target);
	c.refuse(format("fd %d is %s (%s): not supported yet", fd, what.c_str(), d.target.c_str()));
}

} // namespace

FileEntry *describe_in_flight(DumpContext &c, int local_fd)
{
	DumpedFd d = DumpedFd::in_flight(c, local_fd);
	return describe(c, d);
}

FileEntry *reg_file(DumpContext &c, const std::string &path, const std::string &proc_link, uint32_t flags,
		    uint64_t pos)
{
	struct stat st;
	if (stat(proc_link.c_str(), &st) != 0)
		c.fail("cannot stat " + path, errno);
	RegFileEntry r = REG_FILE_ENTRY__INIT;
	bool deleted = ends_with(path, " (deleted)") && S_ISREG(st.st_mode) && st.st_nlink == 0;
	r.path = c.arena.str(deleted ? path.substr(0, path.size() - 10) : path);
	r.flags = flags;
	r.pos = pos;
	r.mode = st.st_mode;
	r.size = uint64_t(st.st_size);
	r.mtime_ns = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec);
	r.dev = st.st_dev;
	r.ino = st.st_ino;
	r.has_deleted = deleted;
	r.deleted = deleted;
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__REG;
	f.reg = c.arena.make(r);
	return c.arena.make(f);
}

void dump_files(DumpContext &c)
{
	struct Open {
		int fd;
		uint32_t id;
	};
	std::vector<Open> seen;
	std::vector<const ProtobufCMessage *> fdinfos;
	for (int fd : proc::list_fds(c.pid)) {
		proc::FdInfo info = proc::read_fdinfo(c.pid, fd);
		uint32_t id = 0;
		// Descriptors that share one open file (dup, inheritance) share its
		// offset and flags: they become one file entry.
		for (const Open &o : seen)
			if (syscall(SYS_kcmp, c.pid, c.pid, kKcmpFile, o.fd, fd) == 0)
				id = o.id;
		for (size_t i = 0; !id && i < c.seen_fds.size(); i++) {
			const DumpShared::SeenFd &o = c.seen_fds[i];
			if (syscall(SYS_kcmp, c.pid, o.pid, kKcmpFile, fd, o.fd) != 0)
				continue;
			const FileEntry &f = *c.files.entries()[o.id - 1];
			if (!shareable(f))
				c.refuse(format("fd %d is the same open %s as fd %d of pid %d: sharing it between processes is "
						"not supported yet",
						fd, type_name(f), o.fd, o.pid));
			id = o.id;
		}
		for (size_t i = 0; !id && i < c.flying.size(); i++)
			if (syscall(SYS_kcmp, c.pid, getpid(), kKcmpFile, fd, c.flying[i].fd.get()) == 0) {
				id = c.flying[i].id;
				if (!shareable(*c.files.entries()[id - 1]))
					c.refuse(format("fd %d is the same open %s as one in flight in a unix socket of another "
							"process: sharing it between processes is not supported yet",
							fd, type_name(*c.files.entries()[id - 1])));
			}
		if (!id) {
			DumpedFd d(c, fd, format("/proc/%d/fd/%d", c.pid, fd), info);
			FileEntry *f = describe(c, d);
			id = c.files.add(f);
			if (f->reg && f->reg->deleted)
				save_ghost(c, f, format("/proc/%d/fd/%d", c.pid, fd), format("fd %d", fd));
		}
		seen.push_back({fd, id});
		c.seen_fds.push_back({c.pid, fd, id});
		FdinfoEntry e = FDINFO_ENTRY__INIT;
		e.fd = uint32_t(fd);
		e.id = id;
		e.cloexec = info.flags & O_CLOEXEC;
		fdinfos.push_back(&c.arena.make(e)->base);
		LOG_DEBUG("pid %d fd %d: file %u", c.pid, fd, id);
	}
	c.write_image(ImageKind::Fdinfo, format("fdinfo-%d.img", c.pid), fdinfos);

	// Descriptors in flight in the process's unix sockets: files it has
	// open too (the same open file, by kcmp), or files of their own.  A
	// unix socket in flight adds what is in flight in it to the list.
	for (size_t i = 0; i < c.in_flight.size(); i++) {
		int local = c.in_flight[i].fd.get();
		uint32_t id = 0;
		for (const DumpShared::SeenFd &o : c.seen_fds)
			if (!id && syscall(SYS_kcmp, o.pid, getpid(), kKcmpFile, o.fd, local) == 0) {
				id = o.id;
				if (o.pid != c.pid && !shareable(*c.files.entries()[id - 1]))
					c.refuse(format("a descriptor in flight in a unix socket is the same open %s as fd %d of pid "
							"%d: sharing it between processes is not supported yet",
							type_name(*c.files.entries()[id - 1]), o.fd, o.pid));
			}
		for (size_t j = 0; !id && j < i; j++)
			if (syscall(SYS_kcmp, getpid(), getpid(), kKcmpFile, c.in_flight[j].fd.get(), local) == 0)
				id = c.in_flight[j].id;
		for (size_t j = 0; !id && j < c.flying.size(); j++)
			if (syscall(SYS_kcmp, getpid(), getpid(), kKcmpFile, c.flying[j].fd.get(), local) == 0)
				id = c.flying[j].id;
		if (!id) {
			FileEntry *e = describe_in_flight(c, local);
			id = c.files.add(e);
			if (e->reg && e->reg->deleted)
				save_ghost(c, e, format("/proc/self/fd/%d", local), "a descriptor in flight");
		}
		c.in_flight[i].id = id;
		UnixQueuedEntry &q = *c.in_flight[i].entry;
		uint32_t *ids = c.arena.array<uint32_t>(q.n_files + 1);
		std::copy(q.files, q.files + q.n_files, ids);
		ids[q.n_files++] = id;
		q.files = ids;
	}
	for (InFlight &f : c.in_flight)
		c.flying.push_back(std::move(f));
	c.in_flight.clear();

	FsEntry fs = FS_ENTRY__INIT;
	for (auto [link, id] : {std::pair{"cwd", &fs.cwd_id}, std::pair{"root", &fs.root_id}}) {
		std::string proc_link = format("/proc/%d/%s", c.pid, link);
		*id = c.files.add(reg_file(c, readlink_str(proc_link), proc_link, O_RDONLY | O_DIRECTORY, 0));
	}
	c.write_image(ImageKind::Fs, format("fs-%d.img", c.pid), {&fs.base});
}

} // namespace criu
