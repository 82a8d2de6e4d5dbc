// What read_images() refuses before anything is started: the process and
// thread lists of pstree.img and each thread's core image (of a process
// tree, and of a multi-threaded process), and file entries whose values
// restore cannot give back.
#include <catch2/catch.hpp>

#include <cstdint>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <compel/compel.h>
#include <compel/error.hpp>

#include "Image.h"
#include "ImagesDir.h"
#include "RestoreImages.h"
#include "TempDir.h"

using namespace criu;

namespace {

constexpr uint32_t kPid = 4242;

void write(const ImagesDir &dir, ImageKind kind, const std::string &name, const ProtobufCMessage *m)
{
	ImageWriter w(dir.fd(), dir.path(), kind, name);
	w.write(m);
	w.commit();
}

// inventory.img, and pstree.img listing tids (the leader is kPid).
// ctty_file: the session leader's controlling pty, 0 for none.
void write_tree(const ImagesDir &dir, std::vector<uint32_t> tids, uint32_t ctty_file = 0)
{
	uint32_t pid = kPid;
	NsPid root = NS_PID__INIT;
	root.n_levels = 1, root.levels = &pid;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.format_version = kFormatVersion;
	inv.tool_version = const_cast<char *>("test");
	inv.root_pid = &root;
	inv.arch = COMPEL_ARCH_X86_64;
	inv.page_size = uint32_t(sysconf(_SC_PAGESIZE));
	write(dir, ImageKind::Inventory, "inventory.img", &inv.base);

	NsPid init = NS_PID__INIT;
	std::vector<NsPid> levels(tids.size(), init);
	std::vector<NsPid *> threads;
	for (size_t i = 0; i < tids.size(); i++) {
		levels[i].n_levels = 1, levels[i].levels = &tids[i];
		threads.push_back(&levels[i]);
	}
	PstreeEntry p = PSTREE_ENTRY__INIT;
	p.pid = &root;
	p.n_threads = threads.size(), p.threads = threads.data();
	p.has_ctty_file = ctty_file != 0, p.ctty_file = ctty_file;
	write(dir, ImageKind::Pstree, "pstree.img", &p.base);
}

struct Proc {
	uint32_t pid, ppid;
	std::vector<uint32_t> tids; // the leader's pid first
	bool zombie = false;
};

// inventory.img, and a pstree.img of several processes.
void write_procs(const ImagesDir &dir, std::vector<Proc> procs)
{
	write_tree(dir, {kPid});
	ImageWriter w(dir.fd(), dir.path(), ImageKind::Pstree, "pstree.img");
	for (Proc &p : procs) {
		NsPid init = NS_PID__INIT;
		std::vector<NsPid> levels(p.tids.size(), init);
		std::vector<NsPid *> threads;
		for (size_t i = 0; i < p.tids.size(); i++) {
			levels[i].n_levels = 1, levels[i].levels = &p.tids[i];
			threads.push_back(&levels[i]);
		}
		NsPid pid = NS_PID__INIT;
		pid.n_levels = 1, pid.levels = &p.pid;
		PstreeEntry e = PSTREE_ENTRY__INIT;
		e.pid = &pid, e.ppid = p.ppid;
		e.n_threads = threads.size(), e.threads = threads.data();
		e.has_zombie_status = p.zombie;
		w.write(&e.base);
	}
	w.commit();
}

struct CoreOptions {
	uint32_t tid;
	bool task = false;
	const char *name = "worker";
};

void write_core(const ImagesDir &dir, const std::string &file, const CoreOptions &o)
{
	CredsEntry creds = CREDS_ENTRY__INIT;
	TaskCoreEntry task = TASK_CORE_ENTRY__INIT;
	task.comm = const_cast<char *>("test");
	task.creds = &creds;
	ThreadCoreEntry thread = THREAD_CORE_ENTRY__INIT;
	thread.name = const_cast<char *>(o.name);
	CoreEntry core = CORE_ENTRY__INIT;
	core.arch = COMPEL_ARCH_X86_64;
	core.tid = o.tid;
	core.thread = &thread;
	core.task = o.task ? &task : nullptr;
	write(dir, ImageKind::Core, file, &core.base);
}

std::string refusal(const ImagesDir &dir)
{
	try {
		read_images(dir);
	} catch (const compel::Error &e) {
		return e.what();
	}
	return "";
}

} // namespace

TEST_CASE("restore refuses a thread list it cannot restore, naming the file and field", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	write_core(dir, "core-4242.img", {kPid, true});

	write_tree(dir, {kPid, 43, 43});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: threads: tid 43 is listed twice"));
	write_tree(dir, {43, kPid});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: threads: the leader must come first"));
	write_tree(dir, {});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: threads: the leader must come first"));
	write_tree(dir, {kPid, 0});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: threads: thread 1 must have one pid level, a valid tid"));
}

TEST_CASE("restore refuses a thread's core image it cannot use, naming the file and field", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	write_tree(dir, {kPid, 43});
	write_core(dir, "core-4242.img", {kPid, true});

	CHECK_THAT(refusal(dir), Catch::Contains("cannot open " + d.path() + "/core-43.img"));
	write_core(dir, "core-43.img", {44});
	CHECK_THAT(refusal(dir), Catch::Contains("core-43.img: tid: 44, but the file is named for thread 43"));
	write_core(dir, "core-43.img", {43, true});
	CHECK_THAT(refusal(dir), Catch::Contains("core-43.img: task: a thread other than the leader"));
	write_core(dir, "core-43.img", {43, false, nullptr});
	CHECK_THAT(refusal(dir), Catch::Contains("core-43.img: thread.name: missing"));
	write_core(dir, "core-4242.img", {kPid, false});
	CHECK_THAT(refusal(dir), Catch::Contains("core-4242.img: lacks the thread's or the task's state"));
	// Past the threads, the next image is the first refusal.
	write_core(dir, "core-4242.img", {kPid, true});
	write_core(dir, "core-43.img", {43});
	CHECK_THAT(refusal(dir), Catch::Contains("cannot open " + d.path() + "/mm-4242.img"));
}

TEST_CASE("restore refuses a process tree it cannot make, naming the process", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);

	write_procs(dir, {{kPid, 1, {kPid}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 4242: the root must be a live process whose parent "
						  "is outside the dump (ppid 0)"));
	write_procs(dir, {{kPid, 0, {kPid}, true}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 4242: the root must be a live process"));
	write_procs(dir, {{kPid, 0, {kPid}}, {50, 51, {50}}, {51, kPid, {51}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 50: its parent 51 is not a process listed before it"));
	write_procs(dir, {{kPid, 0, {kPid, 43}}, {50, 43, {50}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 50: its parent 43 is not a process listed before it"));
	write_procs(dir, {{kPid, 0, {kPid}}, {50, kPid, {50}, true}, {51, 50, {51}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 51: its parent 50 is a zombie"));
	write_procs(dir, {{kPid, 0, {kPid}}, {50, kPid, {50, 51}, true}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 50: a zombie with 2 threads"));
	write_procs(dir, {{kPid, 0, {kPid, 43}}, {50, kPid, {50, 43}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 50: tid 43 is listed twice"));
	write_procs(dir, {{kPid, 0, {kPid}}, {kPid, kPid, {kPid}}});
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 4242: tid 4242 is listed twice"));
	// A sound tree: the next refusal is a missing image of its root.
	write_procs(dir, {{kPid, 0, {kPid}}, {50, kPid, {50}}, {51, 50, {51}, true}});
	CHECK_THAT(refusal(dir), Catch::Contains("cannot open " + d.path() + "/core-4242.img"));
}

namespace {

// The images of a one-thread process up to files.img, whose checks come
// before those of the memory map: every file of files, fds 3, 4... in turn.
// The first `held` files have a descriptor each (3, 4...); the others
// none, as files only in flight in a unix socket.
void write_process(const ImagesDir &dir, const std::vector<FileEntry *> &files, uint32_t ctty_file = 0,
		   size_t held = SIZE_MAX)
{
	write_tree(dir, {kPid}, ctty_file);
	write_core(dir, "core-4242.img", {kPid, true});
	MmEntry mm = MM_ENTRY__INIT;
	write(dir, ImageKind::Mm, "mm-4242.img", &mm.base);
	PagemapHead head = PAGEMAP_HEAD__INIT;
	write(dir, ImageKind::Pagemap, "pagemap-4242.img", &head.base);
	ImageWriter fw(dir.fd(), dir.path(), ImageKind::Files, "files.img");
	ImageWriter dw(dir.fd(), dir.path(), ImageKind::Fdinfo, "fdinfo-4242.img");
	for (size_t i = 0; i < files.size(); i++) {
		files[i]->id = uint32_t(i + 1);
		fw.write(&files[i]->base);
		if (i >= held)
			continue;
		FdinfoEntry fd = FDINFO_ENTRY__INIT;
		fd.fd = uint32_t(i + 3), fd.id = uint32_t(i + 1);
		dw.write(&fd.base);
	}
	fw.commit();
	dw.commit();
	FsEntry fs = FS_ENTRY__INIT;
	write(dir, ImageKind::Fs, "fs-4242.img", &fs.base);
}

} // namespace

TEST_CASE("restore refuses file entries it cannot give back, naming the file and field", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	FileEntry pipe = FILE_ENTRY__INIT, other_end = FILE_ENTRY__INIT;
	PipeEntry p = PIPE_ENTRY__INIT, q = PIPE_ENTRY__INIT;
	pipe.type = other_end.type = FILE_ENTRY__TYPE_T__PIPE;
	pipe.pipe = &p, other_end.pipe = &q;
	p.has_size = true, p.size = 65536;
	uint8_t bytes[8] = {};
	p.has_data = true, p.data = {sizeof(bytes), bytes};

	FileEntry empty = FILE_ENTRY__INIT;
	empty.type = FILE_ENTRY__TYPE_T__EVENTFD;
	write_process(dir, {&empty});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: eventfd is missing"));

	p.size = 3000;
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: pipe.size 3000 is not a power of two"));
	p.size = 4096, p.data.len = 4097;
	std::vector<uint8_t> big(4097);
	p.data.data = big.data();
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: pipe.data has 4097 bytes, more than pipe.size 4096"));
	p.data = {sizeof(bytes), bytes};
	q.has_size = true, q.size = 4096;
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 2: pipe.size is also given for pipe 0 by file 1"));
	q.has_size = false;
	other_end.type = FILE_ENTRY__TYPE_T__FIFO;
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 2: pipe.path is missing"));
	other_end.type = FILE_ENTRY__TYPE_T__PIPE;

	FileEntry timer = FILE_ENTRY__INIT;
	TimerfdEntry t = TIMERFD_ENTRY__INIT;
	timer.type = FILE_ENTRY__TYPE_T__TIMERFD, timer.timerfd = &t;
	t.clockid = 3; // CLOCK_THREAD_CPUTIME_ID
	write_process(dir, {&timer});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: timerfd.clockid 3 is not a clock of timerfds"));

	FileEntry ep = FILE_ENTRY__INIT;
	EpollEntry e = EPOLL_ENTRY__INIT;
	EpollTargetEntry target = EPOLL_TARGET_ENTRY__INIT, *targets[] = {&target};
	ep.type = FILE_ENTRY__TYPE_T__EPOLL, ep.epoll = &e;
	e.n_targets = 1, e.targets = targets;
	target.fd = 9;
	write_process(dir, {&ep});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: epoll.targets[0].fd 9 is not a descriptor of pid 4242"));
	// Named by its file, a target may have been added with a number the
	// process lacks (by another process of the tree): that file must be
	// in the images, and not be the epoll.
	FileEntry counter = FILE_ENTRY__INIT;
	EventfdEntry c = EVENTFD_ENTRY__INIT;
	counter.type = FILE_ENTRY__TYPE_T__EVENTFD, counter.eventfd = &c;
	target.has_file_id = true, target.file_id = 3;
	write_process(dir, {&ep, &counter});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: epoll.targets[0].file_id 3 is not in files.img"));
	target.file_id = 1;
	write_process(dir, {&ep, &counter});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: epoll.targets[0].file_id 1 is the epoll itself"));
	target.file_id = 2;
	write_process(dir, {&ep, &counter});
	CHECK_THAT(refusal(dir), !Catch::Contains("epoll") && Catch::Contains("fs-4242.img"));

	// A deleted file names the one whose ghost image it shares: a deleted
	// file that has its own.
	FileEntry gone = FILE_ENTRY__INIT, again = FILE_ENTRY__INIT;
	RegFileEntry g = REG_FILE_ENTRY__INIT, a = REG_FILE_ENTRY__INIT;
	gone.type = again.type = FILE_ENTRY__TYPE_T__REG;
	gone.reg = &g, again.reg = &a;
	g.path = a.path = const_cast<char *>("/tmp/gone");
	g.deleted = a.deleted = g.has_deleted = a.has_deleted = true;
	a.has_ghost = true, a.ghost = 3;
	write_process(dir, {&gone, &again});
	CHECK_THAT(refusal(dir),
		   Catch::Contains("files.img: file 2: reg.ghost 3 is not a deleted file with its own ghost image"));
	g.has_ghost = true, g.ghost = 2, a.ghost = 1;
	write_process(dir, {&gone, &again});
	CHECK_THAT(refusal(dir),
		   Catch::Contains("files.img: file 1: reg.ghost 2 is not a deleted file with its own ghost image"));
	g.ghost = 1;
	write_process(dir, {&gone, &again});
	CHECK_THAT(refusal(dir), !Catch::Contains("ghost") && Catch::Contains("fs-4242.img"));

	FileEntry nl = FILE_ENTRY__INIT;
	NetlinkSkEntry n = NETLINK_SK_ENTRY__INIT;
	nl.type = FILE_ENTRY__TYPE_T__NETLINK_SK;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: netlink_sk is missing"));
	nl.netlink_sk = &n;
	n.type = SOCK_STREAM;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: netlink_sk.type 1 is not SOCK_RAW or SOCK_DGRAM"));
	n.type = SOCK_RAW, n.protocol = 32;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: netlink_sk.protocol 32 is not a netlink protocol"));
	n.protocol = 0, n.options = 1u << 31;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: netlink_sk.options 80000000 holds options"));
	n.options = 0, n.sndbuf = 1u << 31;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: netlink_sk.sndbuf or rcvbuf is out of range"));
	n.sndbuf = 4096;
	write_process(dir, {&nl});
	CHECK_THAT(refusal(dir), !Catch::Contains("netlink") && Catch::Contains("fs-4242.img"));

	FownEntry owner = FOWN_ENTRY__INIT;
	owner.type = 7;
	pipe.fown = &owner;
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: fown.type 7 is not F_OWNER_TID"));
	owner.type = 1, owner.signum = 65;
	write_process(dir, {&pipe, &other_end});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: fown.signum 65"));
}

TEST_CASE("restore refuses unix sockets, terminals and locks it cannot give back", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	FileEntry a = FILE_ENTRY__INIT, b = FILE_ENTRY__INIT;
	UnixSkEntry ua = UNIX_SK_ENTRY__INIT, ub = UNIX_SK_ENTRY__INIT;
	a.type = b.type = FILE_ENTRY__TYPE_T__UNIX_SK;
	a.unix_sk = &ua, b.unix_sk = &ub;
	ua.ino = 10, ub.ino = 11;
	ua.type = ub.type = SOCK_STREAM;
	ua.state = ub.state = TCP_ESTABLISHED;
	ua.has_peer = ub.has_peer = true;
	ua.peer = 11, ub.peer = 12;
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: unix socket 11: unix_sk.peer 12 is no unix socket of the images"));
	ub.peer = 10, ub.ino = 10;
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 2: unix_sk.ino 10 is also another socket's"));
	ub.ino = 11;
	ua.state = TCP_LISTEN;
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: unix_sk.state is TCP_LISTEN for a socket that cannot"));
	ua.state = TCP_ESTABLISHED, ua.type = 3; // SOCK_RAW
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: unix_sk.type 3 is not SOCK_STREAM"));
	ua.type = SOCK_STREAM;
	UnixQueuedEntry sent = UNIX_QUEUED_ENTRY__INIT, *queue[] = {&sent};
	uint32_t in_flight[] = {99};
	sent.n_files = 1, sent.files = in_flight;
	ua.n_queue = 1, ua.queue = queue;
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: unix socket 10: unix_sk.queue.files 99 is no file of the images"));
	ua.n_queue = 0;

	// In flight only (no descriptor): what restore can make so, and no
	// socket carrying, further down, one that is made with it.
	FileEntry c = FILE_ENTRY__INIT, e = FILE_ENTRY__INIT;
	UnixSkEntry uc = UNIX_SK_ENTRY__INIT;
	EpollEntry ep = EPOLL_ENTRY__INIT;
	c.type = FILE_ENTRY__TYPE_T__UNIX_SK, c.unix_sk = &uc;
	uc.ino = 12, uc.type = SOCK_STREAM, uc.state = TCP_CLOSE;
	e.type = FILE_ENTRY__TYPE_T__EPOLL, e.epoll = &ep;
	ua.n_queue = 1, in_flight[0] = 3;
	write_process(dir, {&a, &b, &c, &e}, 0, 2);
	CHECK_THAT(refusal(dir), !Catch::Contains("unix socket"));
	UnixQueuedEntry deeper = UNIX_QUEUED_ENTRY__INIT, *deep_queue[] = {&deeper};
	uint32_t epoll_id[] = {4};
	deeper.n_files = 1, deeper.files = epoll_id;
	uc.n_queue = 1, uc.queue = deep_queue;
	write_process(dir, {&a, &b, &c, &e}, 0, 2);
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: unix socket 12: unix_sk.queue.files 4 is EPOLL, in flight "
						 "with no descriptor in the tree: restore cannot make it so"));
	write_process(dir, {&a, &b, &c, &e}, 0, 4);
	CHECK_THAT(refusal(dir), !Catch::Contains("unix socket"));
	epoll_id[0] = 2; // b, the peer of a, which carries c
	write_process(dir, {&a, &b, &c, &e}, 0, 2);
	CHECK_THAT(refusal(dir), Catch::Contains("unix_sk.queue.files carries in flight, itself or through other "
						 "sockets, a socket that restore makes with it"));
	in_flight[0] = 1; // a, in flight in what it had received itself
	uc.n_queue = 0;
	write_process(dir, {&a, &b, &c, &e}, 0, 2);
	CHECK_THAT(refusal(dir), Catch::Contains("a socket that restore makes with it"));
	ua.n_queue = 0;

	FileEntry tty = FILE_ENTRY__INIT;
	TtyEntry t = TTY_ENTRY__INIT;
	tty.type = FILE_ENTRY__TYPE_T__TTY, tty.tty = &t;
	t.rows = 70000;
	write_process(dir, {&tty});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: tty.rows cols, xpixel or ypixel is more than 65535"));
	t.rows = 24, t.master = true;
	write_process(dir, {&tty}, 1);
	CHECK_THAT(refusal(dir), Catch::Contains("pstree.img: pid 4242: ctty_file 1 is no pty slave of the images"));

	FileLockEntry lock = FILE_LOCK_ENTRY__INIT, *locks[] = {&lock};
	lock.kind = FILE_LOCK_ENTRY__KIND_T__POSIX;
	lock.start = 10, lock.has_end = true, lock.end = 5;
	a.n_locks = 1, a.locks = locks;
	write_process(dir, {&a, &b});
	CHECK_THAT(refusal(dir), Catch::Contains("files.img: file 1: locks 0: bytes 10 to 5 are no range a lock can have"));
}

namespace {

// A root (kPid) and its child 50, each with vmas and pagemap entries
// (their pages images sized to match); file 1 is "/", for everything.
void write_memory_tree(const ImagesDir &dir, const std::vector<VmaEntry> &root_vmas,
		       const std::vector<VmaEntry> &child_vmas, const std::vector<PagemapEntry> &child_pages)
{
	write_procs(dir, {{kPid, 0, {kPid}}, {50, kPid, {50}}});
	FileEntry root_dir = FILE_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	root_dir.id = 1, root_dir.type = FILE_ENTRY__TYPE_T__REG, root_dir.reg = &reg;
	reg.path = const_cast<char *>("/");
	write(dir, ImageKind::Files, "files.img", &root_dir.base);
	auto process = [&](uint32_t pid, std::vector<VmaEntry> vmas, const std::vector<PagemapEntry> &pages) {
		std::string p = std::to_string(pid);
		write_core(dir, "core-" + p + ".img", {pid, true});
		std::vector<VmaEntry *> vp;
		for (VmaEntry &v : vmas)
			vp.push_back(&v);
		MmEntry mm = MM_ENTRY__INIT;
		mm.exe_file_id = 1;
		mm.n_vmas = vp.size(), mm.vmas = vp.data();
		write(dir, ImageKind::Mm, "mm-" + p + ".img", &mm.base);
		ImageWriter pm(dir.fd(), dir.path(), ImageKind::Pagemap, "pagemap-" + p + ".img");
		PagemapHead head = PAGEMAP_HEAD__INIT;
		head.pages_id = pid;
		pm.write(&head.base);
		for (const PagemapEntry &e : pages)
			pm.write(&e.base);
		pm.commit();
		ImageWriter pages_img(dir.fd(), dir.path(), ImageKind::Pages, "pages-" + p + ".img");
		pages_img.commit();
		ImageWriter fd(dir.fd(), dir.path(), ImageKind::Fdinfo, "fdinfo-" + p + ".img");
		fd.commit();
		FsEntry fs = FS_ENTRY__INIT;
		fs.cwd_id = fs.root_id = 1;
		write(dir, ImageKind::Fs, "fs-" + p + ".img", &fs.base);
	};
	process(kPid, root_vmas, {});
	process(50, child_vmas, child_pages);
}

VmaEntry vma(uint64_t start, uint64_t end, VmaEntry__KindT kind, bool inherited)
{
	VmaEntry v = VMA_ENTRY__INIT;
	v.start = start, v.end = end, v.kind = kind, v.prot = 3, v.flags = 2; // PROT_READ | PROT_WRITE, MAP_PRIVATE
	v.has_inherited = inherited, v.inherited = inherited;
	if (kind == VMA_ENTRY__KIND_T__FILE_PRIVATE || kind == VMA_ENTRY__KIND_T__FILE_SHARED)
		v.has_file_id = true, v.file_id = 1;
	return v;
}

PagemapEntry pages(uint64_t vaddr, uint32_t n, PagemapEntry__FlagT flag)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	e.vaddr = vaddr, e.nr_pages = n, e.flag = flag;
	return e;
}

} // namespace

TEST_CASE("restore refuses memory left to a parent that cannot give it", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	const VmaEntry__KindT anon = VMA_ENTRY__KIND_T__ANON;

	write_memory_tree(dir, {vma(0x10000, 0x20000, anon, false)}, {vma(0x10000, 0x30000, anon, true)}, {});
	CHECK_THAT(refusal(dir), Catch::Contains("mm-50.img: vma 0 [0x10000, 0x30000) is inherited, but the parent "
						  "(pid 4242) has no such vma"));
	write_memory_tree(dir, {vma(0x10000, 0x20000, VMA_ENTRY__KIND_T__FILE_PRIVATE, false)},
			  {vma(0x10000, 0x20000, anon, true)}, {});
	CHECK_THAT(refusal(dir), Catch::Contains("mm-50.img: vma 0 [0x10000, 0x20000) is inherited, but the parent"));
	write_memory_tree(dir, {}, {vma(0x10000, 0x20000, VMA_ENTRY__KIND_T__FILE_SHARED, true)}, {});
	CHECK_THAT(refusal(dir), Catch::Contains("mm-50.img: vma 0 [0x10000, 0x20000) is inherited, but only private "
						  "memory can be"));
	write_memory_tree(dir, {vma(0x10000, 0x20000, anon, false)}, {vma(0x10000, 0x20000, anon, false)},
			  {pages(0x11000, 2, PAGEMAP_ENTRY__FLAG_T__INHERITED)});
	CHECK_THAT(refusal(dir), Catch::Contains("pagemap-50.img: pages at 0x11000 (2) are listed as INHERITED, in a vma "
						  "that is not inherited from the parent"));
	write_memory_tree(dir, {vma(0x10000, 0x20000, anon, false)}, {vma(0x10000, 0x20000, anon, false)},
			  {pages(0x11000, 1, PAGEMAP_ENTRY__FLAG_T__DISCARD)});
	CHECK_THAT(refusal(dir), Catch::Contains("are listed as DISCARD, in a vma that is not inherited"));
	VmaEntry unknown = vma(0x10000, 0x20000, VMA_ENTRY__KIND_T__FILE_SHARED, false);
	unknown.file_id = 2;
	write_memory_tree(dir, {unknown}, {}, {});
	CHECK_THAT(refusal(dir), Catch::Contains("mm-4242.img: vma 0 maps file 2, which files.img lacks (a regular file "
						  "or memfd)"));
	// Sound memory: the next check is that of the files, whose identity
	// these images leave out.
	write_memory_tree(dir, {vma(0x10000, 0x20000, anon, false)}, {vma(0x10000, 0x20000, anon, true)},
			  {pages(0x10000, 4, PAGEMAP_ENTRY__FLAG_T__INHERITED), pages(0x14000, 2, PAGEMAP_ENTRY__FLAG_T__DISCARD)});
	CHECK_THAT(refusal(dir), Catch::StartsWith("the executable / changed since the dump"));
}
