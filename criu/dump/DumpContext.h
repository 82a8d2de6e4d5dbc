#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

#include "Arena.h"
#include "Image.h"
#include "ImagesDir.h"
#include "Options.h"
#include "Progress.h"
#include "Infection.h"
#include "Task.h"
#include "UniqueFd.h"
#include "UnixDiag.h"
#include "dump-protocol.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"

namespace criu {

struct InFlight {
	UniqueFd fd;
	UnixQueuedEntry *entry; // the message that carries it
	uint32_t id = 0;
};

// Every open file of the dump, once, as files.img will list it.
class FileTable {
public:
	uint32_t add(FileEntry *entry);
	const std::vector<FileEntry *> &entries() const { return entries_; }

private:
	std::vector<FileEntry *> entries_;
};

// What the dumps of all processes of a tree share: the memory their
// messages point into, the files (files.img lists every process's), what
// was written, and the counts for stats-dump.img.
struct DumpShared {
	Arena arena;
	FileTable files;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> inode_ids;
	// Every descriptor dumped so far, for those of other processes that
	// refer to the same open file (inherited over fork).
	struct SeenFd {
		pid_t pid;
		int fd;
		uint32_t id;
	};
	std::vector<SeenFd> seen_fds;
	// The descriptors in flight in the sockets of the processes dumped so
	// far (criu's copies), with their ids: another process may have the
	// same open file.
	std::vector<InFlight> flying;
	// The targets of the epolls dumped so far, each with a descriptor of
	// the tree that has its file: its file_id once every descriptor has one.
	struct EpollTarget {
		const EpollEntry *epoll;
		EpollTargetEntry *entry;
		pid_t pid;
		int fd;
	};
	std::vector<EpollTarget> epoll_targets;
	std::vector<pid_t> pids; // the tree's live processes
	std::map<pid_t, const FileEntry *> ctty_files; // session leaders' controlling ptys
	std::map<dev_t, const FileEntry *> pty_slaves;  // a file of each pty slave open in the tree
	// A slave entry of each pty of the tree whose slaves have all closed,
	// not in files unless it is a session's controlling terminal.
	std::map<dev_t, FileEntry *> closed_slaves;
	std::vector<std::string> written; // image files made so far, removed if the dump fails
	// Deleted files the tree maps (the file id of all their mappings, by
	// st_dev and st_ino), and the ghost image of every deleted file the
	// tree maps or has open (the file id it is named after): one for each.
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> mapped_deleted;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> ghosts;
	// The memfds the tree maps: the file id of all their mappings, by
	// st_dev and st_ino.
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> mapped_memfds;
	// The address spaces dumped so far (parents before their children).
	std::map<pid_t, const MmEntry *> mms;
	// A parent's pagemap entries by its pid and the start of a stretch of
	// its pages, for its children to compare theirs with.
	std::map<std::pair<pid_t, uint64_t>, std::vector<uint64_t>> parent_pagemaps;
	// The kernel's unix sockets, and those of the tree's processes, read
	// when first needed.
	std::optional<std::map<uint32_t, proc::UnixSocket>> unix_sockets;
	std::optional<std::set<uint32_t>> tree_sockets;
	Progress *progress = nullptr; // on a terminal, of the pages looked at
	uint64_t progress_bytes = 0;
	struct PageCounts {
		uint64_t time_us = 0, scanned = 0, zero = 0, written = 0, inherited = 0;
	} pages;
};

// What the parts of one process's dump share: the task, where images go,
// and the tree's shared state.
struct DumpContext {
	DumpContext(const Options &o, ImagesDir &d, compel::core::Task &t, pid_t parent_pid, DumpShared &s)
		: opts(o), dir(d), task(t), pid(t.pid()), parent(parent_pid), arena(s.arena), files(s.files),
		  inode_ids(s.inode_ids), seen_fds(s.seen_fds), flying(s.flying), epoll_targets(s.epoll_targets),
		  pids(s.pids), pty_slaves(s.pty_slaves), closed_slaves(s.closed_slaves), unix_sockets(s.unix_sockets), tree_sockets(s.tree_sockets),
		  mapped_deleted(s.mapped_deleted), ghosts(s.ghosts), mapped_memfds(s.mapped_memfds),
		  written(s.written), mms(s.mms), parent_pagemaps(s.parent_pagemaps), progress(s.progress),
		  progress_bytes(s.progress_bytes), pages(s.pages)
	{
	}

	const Options &opts;
	ImagesDir &dir;
	compel::core::Task &task;
	pid_t pid;
	pid_t parent; // a live process of the dump, or 0 (the root's, a zombie's children's)
	Arena &arena;
	FileTable &files;
	// Small ids of inodes that several files share (pipes, memfds), by
	// st_dev and st_ino: the tree's.
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> &inode_ids;
	std::vector<DumpShared::SeenFd> &seen_fds;
	std::vector<InFlight> &flying;
	std::vector<DumpShared::EpollTarget> &epoll_targets;
	const std::vector<pid_t> &pids;
	std::map<dev_t, const FileEntry *> &pty_slaves;
	std::map<dev_t, FileEntry *> &closed_slaves;
	// Descriptors in flight in the process's unix sockets, received by
	// criu (MSG_PEEK); dump_files() gives each its file id in entry.
	std::vector<InFlight> in_flight;
	std::optional<std::map<uint32_t, proc::UnixSocket>> &unix_sockets;
	std::optional<std::set<uint32_t>> &tree_sockets;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> &mapped_deleted;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> &ghosts;
	std::map<std::pair<uint64_t, uint64_t>, uint32_t> &mapped_memfds;
	std::vector<std::string> &written;
	std::map<pid_t, const MmEntry *> &mms;
	std::map<std::pair<pid_t, uint64_t>, std::vector<uint64_t>> &parent_pagemaps;
	Progress *progress;
	uint64_t &progress_bytes;
	DumpShared::PageCounts &pages;

	// Fails the dump with a message naming the process and what is wrong.
	[[noreturn]] void fail(const std::string &what, int err = EINVAL) const;
	// Fails the dump because the process uses what criu cannot dump yet.
	[[noreturn]] void refuse(const std::string &what) const;
	// Writes one image file of entries (and a head first, if given).
	void write_image(ImageKind kind, const std::string &name, const std::vector<const ProtobufCMessage *> &entries);
};

// What the kernel tells only the thread itself: the parasite reports the
// leader's (in dump_misc), syscalls criu runs in the others give theirs.
struct ThreadMisc {
	uint64_t tid_address = 0;
	uint64_t altstack_sp = 0, altstack_size = 0;
	int32_t altstack_flags = 0;
};

// The parts of a dump (DumpCore.cpp, DumpMem.cpp, DumpFiles.cpp).
void dump_files(DumpContext &c);
// The address space as /proc shows it, before the parasite is in it.
MmEntry *collect_mm(DumpContext &c);
// The pages of those VMAs, through the parasite: pages and pagemap images.
// Marks the VMAs that share pages with the parent's as inherited.
void dump_memory(DumpContext &c, compel::core::Infection &inf, MmEntry &mm);
// Runs syscalls in each thread but the leader, while the parasite is in
// (its argument area takes what they write).
std::map<pid_t, ThreadMisc> collect_threads(DumpContext &c, compel::core::Infection &inf);
// core-<tid>.img of every thread.
void dump_core(DumpContext &c, const dump_misc &misc, const std::map<pid_t, ThreadMisc> &threads);

// The contents of deleted file f (through proc_link) into ghost-<id>.img,
// up to --ghost-limit, unless an earlier file of the same inode has saved
// them: f's entry names the image; what: the descriptor or mapping, for
// messages.
void save_ghost(DumpContext &c, FileEntry *f, const std::string &proc_link, const std::string &what);

// A regular file's entry: path, identity (to check on restore) and state.
FileEntry *reg_file(DumpContext &c, const std::string &path, const std::string &proc_link, uint32_t flags,
		    uint64_t pos);

} // namespace criu
