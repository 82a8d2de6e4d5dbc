#include "RestoreImages.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <linux/netlink.h>
#include <netinet/tcp.h>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kMaxPipeSize = 1u << 31;
constexpr uint64_t kMaxTimeNs = uint64_t(INT64_MAX / 2); // what a timespec holds, with room for now + value
constexpr uint32_t kMaxMemfdName = 249;                  // MFD_NAME_MAX_LEN
constexpr size_t kMaxSocketQueue = size_t(1) << 30;      // more than any socket buffer holds
// F_SEAL_SEAL, _SHRINK, _GROW, _WRITE, _FUTURE_WRITE and _EXEC (0x20, which
// glibc 2.36 lacks).
constexpr uint32_t kKnownSeals = 0x3f;
constexpr uint32_t kMaxSignal = 64;
constexpr size_t kMaxNetlinkGroupWords = 1024; // 32768 multicast groups, more than any protocol has

[[noreturn]] void bad(const std::string &file, const std::string &why)
{
	throw Error(file + ": " + why, EINVAL);
}

template <typename T> std::vector<Unpacked<T>> read_all(ImageReader &r, const ProtobufCMessageDescriptor *d)
{
	std::vector<Unpacked<T>> out;
	while (auto m = r.next<T>(d))
		out.push_back(std::move(m));
	return out;
}

// A file the process maps or runs must be the one it was at the dump.
void check_identity(const RegFileEntry &f, const std::string &what)
{
	struct stat st;
	if (stat(f.path, &st) != 0)
		throw Error(format("%s %s is gone", what.c_str(), f.path), errno);
	uint64_t mtime = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec);
	const char *field = st.st_dev != f.dev		   ? "device"
			    : st.st_ino != f.ino	   ? "inode"
			    : uint64_t(st.st_size) != f.size ? "size"
			    : mtime != f.mtime_ns	   ? "modification time"
							   : nullptr;
	if (field)
		throw Error(format("%s %s changed since the dump (its %s differs): restoring it would run "
				   "other code than was dumped",
				   what.c_str(), f.path, field),
			    ESTALE);
}

using FieldError = std::function<void(const char *field, const std::string &why)>;

// The name of the part of the entry its type needs, if it is missing.
const char *missing_part(const FileEntry &f)
{
	switch (f.type) {
	case FILE_ENTRY__TYPE_T__REG: return f.reg ? nullptr : "reg";
	case FILE_ENTRY__TYPE_T__EXTERNAL: return f.external ? nullptr : "external";
	case FILE_ENTRY__TYPE_T__PIPE:
	case FILE_ENTRY__TYPE_T__FIFO: return f.pipe ? nullptr : "pipe";
	case FILE_ENTRY__TYPE_T__EVENTFD: return f.eventfd ? nullptr : "eventfd";
	case FILE_ENTRY__TYPE_T__SIGNALFD: return f.signalfd ? nullptr : "signalfd";
	case FILE_ENTRY__TYPE_T__TIMERFD: return f.timerfd ? nullptr : "timerfd";
	case FILE_ENTRY__TYPE_T__INOTIFY: return f.inotify ? nullptr : "inotify";
	case FILE_ENTRY__TYPE_T__EPOLL: return f.epoll ? nullptr : "epoll";
	case FILE_ENTRY__TYPE_T__MEMFD: return f.memfd ? nullptr : "memfd";
	case FILE_ENTRY__TYPE_T__UNIX_SK: return f.unix_sk ? nullptr : "unix_sk";
	case FILE_ENTRY__TYPE_T__NETLINK_SK: return f.netlink_sk ? nullptr : "netlink_sk";
	case FILE_ENTRY__TYPE_T__TTY: return f.tty ? nullptr : "tty";
	default: return "type";
	}
}

// pipes: the entry of each pipe seen so far, the one with its size if any.
void check_pipe(const FileEntry &f, std::map<uint32_t, const FileEntry *> &pipes, const FieldError &field)
{
	const PipeEntry &p = *f.pipe;
	if ((f.type == FILE_ENTRY__TYPE_T__FIFO) != (p.path != nullptr))
		field("pipe.path", f.type == FILE_ENTRY__TYPE_T__FIFO ? "is missing" : "is set for an anonymous pipe");
	if (p.has_data && !p.has_size)
		field("pipe.data", "comes without pipe.size");
	if (p.has_size && (p.size < kPage || p.size > kMaxPipeSize || p.size & (p.size - 1)))
		field("pipe.size",
		      format("%u is not a power of two from %llu to %u", p.size, (unsigned long long)kPage, kMaxPipeSize));
	if (p.has_data && p.data.len > p.size)
		field("pipe.data", format("has %zu bytes, more than pipe.size %u", p.data.len, p.size));
	auto [other, first] = pipes.try_emplace(p.pipe_id, &f);
	if (!first && other->second->type != f.type)
		field("pipe.pipe_id", format("%u is also a pipe of another type (file %u)", p.pipe_id, other->second->id));
	if (!first && p.has_size && other->second->pipe->has_size)
		field("pipe.size", format("is also given for pipe %u by file %u", p.pipe_id, other->second->id));
	if (p.has_size)
		other->second = &f;
}

void check_timerfd(const TimerfdEntry &t, const FieldError &field)
{
	if (t.clockid != CLOCK_REALTIME && t.clockid != CLOCK_MONOTONIC && t.clockid != CLOCK_BOOTTIME &&
	    t.clockid != CLOCK_REALTIME_ALARM && t.clockid != CLOCK_BOOTTIME_ALARM)
		field("timerfd.clockid", format("%u is not a clock of timerfds", t.clockid));
	if (t.settime_flags & ~uint32_t(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		field("timerfd.settime_flags", format("0%o holds unknown flags", t.settime_flags));
	if (t.value_ns > kMaxTimeNs || t.interval_ns > kMaxTimeNs)
		field("timerfd.value_ns", "or interval_ns is out of range");
}

void check_unix_sk(const UnixSkEntry &u, const FieldError &field)
{
	if (u.type != SOCK_STREAM && u.type != SOCK_DGRAM && u.type != SOCK_SEQPACKET)
		field("unix_sk.type", format("%u is not SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET", u.type));
	if (u.state != TCP_ESTABLISHED && u.state != TCP_CLOSE && u.state != TCP_LISTEN)
		field("unix_sk.state", format("%u is not TCP_ESTABLISHED, TCP_CLOSE or TCP_LISTEN", u.state));
	if (u.state == TCP_LISTEN && (u.type == SOCK_DGRAM || !u.has_backlog || !u.has_name || u.has_peer))
		field("unix_sk.state", "is TCP_LISTEN for a socket that cannot listen, or without backlog and name");
	if (u.has_name && (!u.name.len || u.name.len > sizeof(sockaddr_un::sun_path)))
		field("unix_sk.name", format("has %zu bytes, not 1 to %zu", u.name.len, sizeof(sockaddr_un::sun_path)));
	if (u.shutdown > 3)
		field("unix_sk.shutdown", format("%u has bits besides 1 and 2", u.shutdown));
	if (u.sndbuf > INT_MAX || u.rcvbuf > INT_MAX)
		field("unix_sk.sndbuf", "or rcvbuf is out of range");
	size_t bytes = 0;
	for (size_t i = 0; i < u.n_queue; i++)
		bytes += u.queue[i]->data.len + (u.queue[i]->has_sender ? u.queue[i]->sender.len : 0);
	if (bytes > kMaxSocketQueue)
		field("unix_sk.queue", format("holds %zu bytes, more than %zu", bytes, kMaxSocketQueue));
}

void check_netlink_sk(const NetlinkSkEntry &n, const FieldError &field)
{
	if (n.type != SOCK_RAW && n.type != SOCK_DGRAM)
		field("netlink_sk.type", format("%u is not SOCK_RAW or SOCK_DGRAM", n.type));
	if (n.protocol >= MAX_LINKS)
		field("netlink_sk.protocol", format("%u is not a netlink protocol (0 to %d)", n.protocol, MAX_LINKS - 1));
	if (n.options & ~netlink_option_bits())
		field("netlink_sk.options", format("%x holds options criu does not know", n.options));
	if (n.n_groups > kMaxNetlinkGroupWords)
		field("netlink_sk.groups", format("has %zu words, more than %zu", n.n_groups, kMaxNetlinkGroupWords));
	if (n.sndbuf > INT_MAX || n.rcvbuf > INT_MAX)
		field("netlink_sk.sndbuf", "or rcvbuf is out of range");
}

void check_tty(const TtyEntry &t, const FieldError &field)
{
	if (t.cc.len > NCCS)
		field("tty.cc", format("has %zu control characters, more than %d", t.cc.len, NCCS));
	if (t.rows > UINT16_MAX || t.cols > UINT16_MAX || t.xpixel > UINT16_MAX || t.ypixel > UINT16_MAX)
		field("tty.rows", "cols, xpixel or ypixel is more than 65535");
}

void check_lock(const FileLockEntry &l, size_t i, const FieldError &field)
{
	if (l.start > INT64_MAX || (l.has_end && (l.end < l.start || l.end > INT64_MAX)))
		field("locks", format("%zu: bytes %llu to %llu are no range a lock can have", i, (unsigned long long)l.start,
				      (unsigned long long)l.end));
}

// The part of an entry its type needs is there, and its values are ones
// restore can give back.
void check_file(const FileEntry &f, std::map<uint32_t, const FileEntry *> &pipes)
{
	FieldError field = [&f](const char *name, const std::string &why) {
		bad("files.img", format("file %u: %s %s", f.id, name, why.c_str()));
	};
	if (const char *part = missing_part(f))
		field(part, "is missing");
	if (f.pipe)
		check_pipe(f, pipes, field);
	if (f.eventfd && f.eventfd->counter == UINT64_MAX)
		field("eventfd.counter", "is out of range (2^64-1)");
	if (f.timerfd)
		check_timerfd(*f.timerfd, field);
	std::set<uint32_t> wds;
	for (size_t i = 0; f.inotify && i < f.inotify->n_watches; i++)
		if (!f.inotify->watches[i]->wd || !wds.insert(f.inotify->watches[i]->wd).second)
			field("inotify.watches.wd", format("%u is 0 or repeated", f.inotify->watches[i]->wd));
	if (f.memfd && strlen(f.memfd->name) > kMaxMemfdName)
		field("memfd.name", format("is longer than %u bytes", kMaxMemfdName));
	if (f.memfd && f.memfd->seals & ~kKnownSeals)
		field("memfd.seals", format("%x holds unknown seals", f.memfd->seals));
	if (f.unix_sk)
		check_unix_sk(*f.unix_sk, field);
	if (f.netlink_sk)
		check_netlink_sk(*f.netlink_sk, field);
	if (f.tty)
		check_tty(*f.tty, field);
	for (size_t i = 0; i < f.n_locks; i++)
		check_lock(*f.locks[i], i, field);
	if (f.fown && f.fown->type != F_OWNER_TID && f.fown->type != F_OWNER_PID && f.fown->type != F_OWNER_PGRP)
		field("fown.type", format("%u is not F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP", f.fown->type));
	if (f.fown && (f.fown->signum > kMaxSignal || f.fown->pid > INT32_MAX))
		field("fown.signum", format("%u or fown.pid %u is out of range", f.fown->signum, f.fown->pid));
}

// The files that may be in flight with no descriptor in the tree: those
// whose open steps need nothing of a process.
bool may_fly_alone(const FileEntry &f)
{
	switch (f.type) {
	case FILE_ENTRY__TYPE_T__REG:
	case FILE_ENTRY__TYPE_T__PIPE:
	case FILE_ENTRY__TYPE_T__FIFO:
	case FILE_ENTRY__TYPE_T__EVENTFD:
	case FILE_ENTRY__TYPE_T__SIGNALFD:
	case FILE_ENTRY__TYPE_T__TIMERFD:
	case FILE_ENTRY__TYPE_T__INOTIFY:
	case FILE_ENTRY__TYPE_T__MEMFD:
	case FILE_ENTRY__TYPE_T__UNIX_SK:
		return true;
	default:
		return false;
	}
}

// Sockets name each other by inode: every name must be a unix socket of the
// images, and each inode one socket.
void check_unix_sockets(const RestoreTree &tree)
{
	std::map<uint32_t, const UnixSkEntry *> by_ino;
	for (auto &f : tree.files)
		if (f->unix_sk && !by_ino.emplace(f->unix_sk->ino, f->unix_sk).second)
			bad("files.img", format("file %u: unix_sk.ino %u is also another socket's", f->id, f->unix_sk->ino));
	std::map<uint32_t, const FileEntry *> by_id;
	for (auto &f : tree.files)
		by_id[f->id] = &*f;
	std::set<uint32_t> held; // files with a descriptor in a process of the tree
	for (const RestoreImages &img : tree.procs)
		for (auto &d : img.fdinfo)
			held.insert(d->id);
	for (const auto &[ino, u] : by_ino) {
		for (size_t i = 0; i < u->n_queue; i++)
			for (size_t j = 0; j < u->queue[i]->n_files; j++) {
				uint32_t id = u->queue[i]->files[j];
				auto f = by_id.find(id);
				if (f == by_id.end())
					bad("files.img", format("unix socket %u: unix_sk.queue.files %u is no file of the images", ino, id));
				if (!held.count(id) && !may_fly_alone(*f->second))
					bad("files.img", format("unix socket %u: unix_sk.queue.files %u is %s, in flight with no "
								"descriptor in the tree: restore cannot make it so",
								ino, id,
								protobuf_c_enum_descriptor_get_value(&file_entry__type_t__descriptor,
												     f->second->type)
									->name));
			}
		if (u->has_peer && !by_ino.count(u->peer))
			bad("files.img", format("unix socket %u: unix_sk.peer %u is no unix socket of the images", ino, u->peer));
		for (size_t i = 0; i < u->n_pending; i++)
			if (!by_ino.count(u->pending[i]))
				bad("files.img",
				    format("unix socket %u: unix_sk.pending %u is no unix socket of the images", ino, u->pending[i]));
	}
	if (uint32_t ino = unix_socket_carrying_itself(by_id))
		bad("files.img", format("unix socket %u: unix_sk.queue.files carries in flight, itself or through other "
					"sockets, a socket that restore makes with it (itself, its peer or its listener): "
					"restore cannot make either first",
					ino));
}

// An epoll's targets name their files by id: a file of the images, which
// the epoll cannot be (the kernel refuses to watch an epoll from itself).
void check_epoll_targets(const std::map<uint32_t, FileEntry *> &by_id)
{
	for (const auto &[id, f] : by_id)
		for (size_t i = 0; f->epoll && i < f->epoll->n_targets; i++) {
			const EpollTargetEntry &t = *f->epoll->targets[i];
			if (t.has_file_id && !by_id.count(t.file_id))
				bad("files.img",
				    format("file %u: epoll.targets[%zu].file_id %u is not in files.img", id, i, t.file_id));
			if (t.has_file_id && t.file_id == id)
				bad("files.img",
				    format("file %u: epoll.targets[%zu].file_id %u is the epoll itself", id, i, t.file_id));
		}
}

// A deleted file names the one whose ghost image holds its contents: a
// deleted file of the images, which holds its own.
void check_ghosts(const std::map<uint32_t, FileEntry *> &by_id)
{
	for (const auto &[id, f] : by_id) {
		if (!f->reg || !f->reg->deleted || !f->reg->has_ghost)
			continue;
		auto g = by_id.find(f->reg->ghost);
		if (g == by_id.end() || !g->second->reg || !g->second->reg->deleted || ghost_of(*g->second) != g->first)
			bad("files.img", format("file %u: reg.ghost %u is not a deleted file with its own ghost image", id,
						f->reg->ghost));
	}
}

void index_files(RestoreTree &tree, std::map<uint32_t, FileEntry *> &by_id)
{
	std::map<uint32_t, const FileEntry *> pipes; // the entry with each pipe's size and bytes
	for (auto &f : tree.files) {
		if (f->id == 0 || by_id.count(f->id))
			bad("files.img", format("file id %u is invalid or listed twice", f->id));
		check_file(*f, pipes);
		by_id[f->id] = &*f;
	}
}

void check_files(RestoreImages &img)
{
	std::set<uint32_t> fds;
	for (auto &d : img.fdinfo) {
		if (!img.files_by_id.count(d->id))
			bad(format("fdinfo-%d.img", img.pid), format("fd %u refers to file %u, which files.img lacks", d->fd, d->id));
		if (!fds.insert(d->fd).second)
			bad(format("fdinfo-%d.img", img.pid), format("fd %u is listed twice", d->fd));
	}
	if (img.pstree->has_ctty_file) {
		auto f = img.files_by_id.find(img.pstree->ctty_file);
		if (f == img.files_by_id.end() || !f->second->tty || f->second->tty->master)
			bad("pstree.img", format("pid %d: ctty_file %u is no pty slave of the images", img.pid,
						 img.pstree->ctty_file));
	}
	// A target without its file's id (older images) is the file at its
	// number in the epoll's process.
	for (auto &d : img.fdinfo) {
		const FileEntry &f = img.file(d->id);
		for (size_t i = 0; f.epoll && i < f.epoll->n_targets; i++)
			if (!f.epoll->targets[i]->has_file_id && !fds.count(f.epoll->targets[i]->fd))
				bad("files.img", format("file %u: epoll.targets[%zu].fd %u is not a descriptor of pid %d", f.id,
							i, f.epoll->targets[i]->fd, img.pid));
	}
	for (uint32_t id : {img.fs->cwd_id, img.fs->root_id})
		if (!img.files_by_id.count(id) || !img.file(id).reg)
			bad(format("fs-%d.img", img.pid), format("directory file %u is missing", id));
}

// The vma that holds address a (vmas are in order), or nullptr.
const VmaEntry *vma_at(const MmEntry &mm, uint64_t a)
{
	auto after = std::upper_bound(mm.vmas, mm.vmas + mm.n_vmas, a,
				      [](uint64_t x, const VmaEntry *v) { return x < v->start; });
	return after != mm.vmas && a < after[-1]->end ? after[-1] : nullptr;
}

// Pages go into anonymous and private file mappings only: a shared file
// mapping's pages are the file's (filling them would write the file), and
// the special mappings are the kernel's.
bool takes_pages(const VmaEntry &v)
{
	return v.kind == VMA_ENTRY__KIND_T__ANON || v.kind == VMA_ENTRY__KIND_T__ANON_SHARED ||
	       v.kind == VMA_ENTRY__KIND_T__FILE_PRIVATE;
}

bool maps_file(const VmaEntry &v)
{
	return v.kind == VMA_ENTRY__KIND_T__FILE_PRIVATE || v.kind == VMA_ENTRY__KIND_T__FILE_SHARED;
}

void check_mm(const ImagesDir &dir, RestoreImages &img)
{
	std::string name = format("mm-%d.img", img.pid);
	const MmEntry &mm = *img.mm;
	if (!img.files_by_id.count(mm.exe_file_id) || !img.file(mm.exe_file_id).reg)
		bad(name, format("the executable is file %u, which files.img lacks", mm.exe_file_id));
	uint64_t prev_end = 0;
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (v.start >= v.end || v.start % kPage || v.end % kPage || v.start < prev_end)
			bad(name, format("vma %zu [0x%llx, 0x%llx) is not a page-aligned range after the previous one",
					 i, (unsigned long long)v.start, (unsigned long long)v.end));
		prev_end = v.end;
		if (v.inherited && v.kind != VMA_ENTRY__KIND_T__ANON && v.kind != VMA_ENTRY__KIND_T__FILE_PRIVATE)
			bad(name, format("vma %zu [0x%llx, 0x%llx) is inherited, but only private memory can be", i,
					 (unsigned long long)v.start, (unsigned long long)v.end));
		if (maps_file(v) && (!v.has_file_id || !img.files_by_id.count(v.file_id) ||
				     (!img.file(v.file_id).reg && !img.file(v.file_id).memfd)))
			bad(name, format("vma %zu maps file %u, which files.img lacks (a regular file or memfd)", i, v.file_id));
	}
	// Restore fills each entry into the vma that holds its first page.
	std::string pm = format("pagemap-%d.img", img.pid);
	uint64_t filled_to = 0;
	for (auto &e : img.pagemap) {
		uint64_t len = uint64_t(e->nr_pages) * kPage;
		if (e->vaddr % kPage || !e->nr_pages || e->vaddr < filled_to)
			bad(pm, format("pages at 0x%llx (%u) are not a page-aligned, non-empty range after the previous entry's",
				       (unsigned long long)e->vaddr, e->nr_pages));
		const VmaEntry *v = vma_at(mm, e->vaddr);
		if (!v || v->end - e->vaddr < len)
			bad(pm, format("pages at 0x%llx (%u) lie outside every vma", (unsigned long long)e->vaddr, e->nr_pages));
		if (!takes_pages(*v))
			bad(pm, format("pages at 0x%llx (%u) lie in a vma of kind %s, which restore does not fill",
				       (unsigned long long)e->vaddr, e->nr_pages,
				       protobuf_c_enum_descriptor_get_value(&vma_entry__kind_t__descriptor, v->kind)->name));
		if ((e->flag == PAGEMAP_ENTRY__FLAG_T__INHERITED || e->flag == PAGEMAP_ENTRY__FLAG_T__DISCARD) && !v->inherited)
			bad(pm, format("pages at 0x%llx (%u) are listed as %s, in a vma that is not inherited from the parent",
				       (unsigned long long)e->vaddr, e->nr_pages,
				       protobuf_c_enum_descriptor_get_value(&pagemap_entry__flag_t__descriptor, e->flag)->name));
		filled_to = e->vaddr + len;
		if (e->flag == PAGEMAP_ENTRY__FLAG_T__DATA)
			img.data_pages += e->nr_pages;
	}
	img.pages_file = format("pages-%u.img", img.pagemap_head->pages_id);
	struct stat st;
	if (fstatat(dir.fd(), img.pages_file.c_str(), &st, 0) != 0)
		throw Error(format("%s/%s, which %s refers to, is missing", dir.path().c_str(), img.pages_file.c_str(),
				   pm.c_str()),
			    errno);
	if (uint64_t(st.st_size) != img.data_pages * kPage)
		bad(img.pages_file, format("has %lld bytes, but %s lists %llu pages (%llu bytes)", (long long)st.st_size,
					   pm.c_str(), (unsigned long long)img.data_pages,
					   (unsigned long long)(img.data_pages * kPage)));
}

// An inherited vma is made from the parent's: the parent has one of the
// same range, kind and file.
void check_inherited(const RestoreTree &tree, const RestoreImages &img)
{
	const MmEntry &mm = *img.mm;
	const RestoreImages *parent = tree.find(pid_t(img.pstree->ppid));
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (!v.inherited)
			continue;
		const VmaEntry *p = parent ? inherited_from(*parent, v) : nullptr;
		if (!p)
			bad(format("mm-%d.img", img.pid),
			    format("vma %zu [0x%llx, 0x%llx) is inherited, but the parent (pid %u) has no such vma", i,
				   (unsigned long long)v.start, (unsigned long long)v.end, img.pstree->ppid));
	}
}

// Only once the images are known to be sound: a corrupt image is reported
// as corrupt whatever has become of the files it names.
void check_mapped_files(const RestoreImages &img)
{
	const MmEntry &mm = *img.mm;
	check_identity(*img.file(mm.exe_file_id).reg, "the executable");
	for (size_t i = 0; i < mm.n_vmas; i++)
		if (maps_file(*mm.vmas[i]) && img.file(mm.vmas[i]->file_id).reg && !img.file(mm.vmas[i]->file_id).reg->deleted)
			check_identity(*img.file(mm.vmas[i]->file_id).reg, "the mapped file");
}

// The threads: the leader first, each with one pid level, none twice.
void check_threads(ImageReader &r, const PstreeEntry &p)
{
	if (!p.n_threads || p.threads[0]->n_levels != 1 || p.threads[0]->levels[0] != p.pid->levels[0])
		r.fail("threads: the leader must come first");
	std::set<uint32_t> tids;
	for (size_t i = 0; i < p.n_threads; i++) {
		const NsPid &t = *p.threads[i];
		if (t.n_levels != 1 || !t.levels[0] || t.levels[0] > uint32_t(INT32_MAX))
			r.fail(format("threads: thread %zu must have one pid level, a valid tid", i));
		if (!tids.insert(t.levels[0]).second)
			r.fail(format("threads: tid %u is listed twice", t.levels[0]));
	}
}

// core-<tid>.img: every thread's state, and the process's in the leader's.
Unpacked<CoreEntry> read_core(const ImagesDir &dir, const InventoryEntry &inv, pid_t pid, pid_t tid)
{
	ImageReader r(dir.fd(), dir.path(), ImageKind::Core, format("core-%d.img", tid));
	Unpacked<CoreEntry> core = r.expect<CoreEntry>(&core_entry__descriptor);
	bool leader = tid == pid;
	if (core->tid != uint32_t(tid))
		r.fail(format("tid: %u, but the file is named for thread %d", core->tid, tid));
	if (!core->thread || (leader && (!core->task || !core->task->creds)))
		r.fail("lacks the thread's or the task's state");
	if (!leader && core->task)
		r.fail("task: a thread other than the leader holds the process's state");
	if (!leader && !core->thread->name)
		r.fail("thread.name: missing");
	if (core->arch != inv.arch)
		r.fail(format("holds a thread of arch %u, but inventory.img says the tasks are of arch %u", core->arch,
			      inv.arch));
	return core;
}

// The tree: the root first, outside the dump (ppid 0); every other process
// after its parent, which is a live process of the dump; no pid or tid
// twice; a zombie is a lone thread.
void check_pstree(ImageReader &r, const std::vector<Unpacked<PstreeEntry>> &pstree)
{
	std::map<uint32_t, const PstreeEntry *> seen; // pid or tid: its process
	for (size_t i = 0; i < pstree.size(); i++) {
		const PstreeEntry &p = *pstree[i];
		if (!p.pid || p.pid->n_levels != 1 || !p.pid->levels[0] || p.pid->levels[0] > uint32_t(INT32_MAX))
			r.fail(format("entry %zu: the process must have one pid level, a valid pid", i));
		uint32_t pid = p.pid->levels[0];
		check_threads(r, p);
		if (p.has_zombie_status && p.n_threads != 1)
			r.fail(format("pid %u: a zombie with %zu threads", pid, p.n_threads));
		if (i == 0 && (p.ppid || p.has_zombie_status))
			r.fail(format("pid %u: the root must be a live process whose parent is outside the dump (ppid 0)", pid));
		if (i > 0 && (!seen.count(p.ppid) || seen[p.ppid]->pid->levels[0] != p.ppid))
			r.fail(format("pid %u: its parent %u is not a process listed before it", pid, p.ppid));
		if (i > 0 && seen[p.ppid]->has_zombie_status)
			r.fail(format("pid %u: its parent %u is a zombie", pid, p.ppid));
		for (size_t t = 0; t < p.n_threads; t++)
			if (!seen.emplace(p.threads[t]->levels[0], &p).second)
				r.fail(format("pid %u: tid %u is listed twice", pid, p.threads[t]->levels[0]));
	}
}

// Every image of one live process but the files the tree shares.
void read_process(const ImagesDir &dir, const InventoryEntry &inv, RestoreImages &img)
{
	img.core = read_core(dir, inv, img.pid, img.pid);
	for (size_t i = 1; i < img.pstree->n_threads; i++)
		img.threads.push_back(read_core(dir, inv, img.pid, pid_t(img.pstree->threads[i]->levels[0])));
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Mm, format("mm-%d.img", img.pid));
		img.mm = r.expect<MmEntry>(&mm_entry__descriptor);
	}
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Pagemap, format("pagemap-%d.img", img.pid));
		img.pagemap_head = r.expect<PagemapHead>(&pagemap_head__descriptor);
		img.pagemap = read_all<PagemapEntry>(r, &pagemap_entry__descriptor);
	}
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Fdinfo, format("fdinfo-%d.img", img.pid));
		img.fdinfo = read_all<FdinfoEntry>(r, &fdinfo_entry__descriptor);
	}
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Fs, format("fs-%d.img", img.pid));
		img.fs = r.expect<FsEntry>(&fs_entry__descriptor);
	}
}

} // namespace

const VmaEntry *inherited_from(const RestoreImages &parent, const VmaEntry &v)
{
	if (parent.zombie())
		return nullptr;
	const MmEntry &mm = *parent.mm;
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &p = *mm.vmas[i];
		if (p.start != v.start || p.end != v.end || p.kind != v.kind)
			continue;
		if (v.kind != VMA_ENTRY__KIND_T__FILE_PRIVATE)
			return &p;
		return same_mapped_file(parent.file(p.file_id), parent.file(v.file_id)) && p.pgoff == v.pgoff ? &p : nullptr;
	}
	return nullptr;
}

const RestoreImages *RestoreTree::find(pid_t pid) const
{
	for (const RestoreImages &p : procs)
		if (p.pid == pid)
			return &p;
	return nullptr;
}

RestoreTree read_images(const ImagesDir &dir)
{
	RestoreTree tree;
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Inventory, "inventory.img");
		tree.inventory = r.expect<InventoryEntry>(&inventory_entry__descriptor);
		const InventoryEntry &inv = *tree.inventory;
		if (inv.format_version != kFormatVersion)
			r.fail(format("format version %u; this criu reads version %u", inv.format_version, kFormatVersion));
		if (!arch_core(inv.arch))
			r.fail(format("holds tasks of arch %u, which this criu cannot restore", inv.arch));
		if (inv.page_size != uint32_t(sysconf(_SC_PAGESIZE)))
			r.fail(format("was dumped with %u-byte pages; this system has %ld", inv.page_size,
				      sysconf(_SC_PAGESIZE)));
	}
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Pstree, "pstree.img");
		tree.pstree.push_back(r.expect<PstreeEntry>(&pstree_entry__descriptor));
		while (auto p = r.next<PstreeEntry>(&pstree_entry__descriptor))
			tree.pstree.push_back(std::move(p));
		check_pstree(r, tree.pstree);
	}
	tree.procs.resize(tree.pstree.size());
	for (size_t i = 0; i < tree.pstree.size(); i++) {
		RestoreImages &img = tree.procs[i];
		img.pstree = &*tree.pstree[i];
		img.pid = pid_t(img.pstree->pid->levels[0]);
		if (!img.zombie())
			read_process(dir, *tree.inventory, img);
	}
	{
		ImageReader r(dir.fd(), dir.path(), ImageKind::Files, "files.img");
		tree.files = read_all<FileEntry>(r, &file_entry__descriptor);
	}
	std::map<uint32_t, FileEntry *> by_id;
	index_files(tree, by_id);
	check_epoll_targets(by_id);
	check_ghosts(by_id);
	check_unix_sockets(tree);
	for (RestoreImages &img : tree.procs) {
		if (img.zombie())
			continue;
		img.files_by_id = by_id;
		check_files(img);
		check_mm(dir, img);
		tree.data_pages += img.data_pages;
	}
	for (const RestoreImages &img : tree.procs)
		if (!img.zombie())
			check_inherited(tree, img);
	for (const RestoreImages &img : tree.procs)
		if (!img.zombie())
			check_mapped_files(img);
	return tree;
}

} // namespace criu
