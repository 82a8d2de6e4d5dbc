// What read_images() refuses of a multi-threaded dump and of a process
// tree, before anything is started: the process and thread lists of
// pstree.img and each thread's core image.
#include <catch2/catch.hpp>

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
void write_tree(const ImagesDir &dir, std::vector<uint32_t> tids)
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
