#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <sys/types.h>
#include <vector>

#include "ImagesDir.h"
#include "Progress.h"
#include "RestoreImages.h"

namespace criu {

class MadeFiles;
class SharedFiles;
class SharedMemory;

// Makes the processes of a dump with their pids, sessions and process
// groups, and has each restore itself.
//
// criu drives every process it makes, one step at a time, over a
// SOCK_SEQPACKET socket of its own (the process is still criu's code): fork
// a child with a given pid, setsid, setpgid, exit, reap a child, map its
// memory, restore.  A process maps and fills its memory before it forks
// its children: they inherit it, and keep the pages they shared with it
// copy-on-write at the dump.
// A process asked to fork makes the child's socket, and criu takes its end
// out of the parent with pidfd_getfd(), so that nothing but criu and the
// child ever holds it: when the child ends, criu reads the end of its socket.
//
// Sessions and groups whose leader is not a live process of the dump get a
// helper with the leader's pid: a session's under the parent of the
// processes that were in it (which must be a child subreaper: they are its
// orphans), a group's under the first process that is in it.  Helpers end,
// and are reaped, before any process restores itself; a zombie ends then
// too, with its exit status, and stays unreaped.
class TreeRestorer {
public:
	TreeRestorer(const RestoreTree &tree, const ImagesDir &dir, bool shell_job);
	// Kills what it made, unless release() was reached.
	~TreeRestorer();
	TreeRestorer(const TreeRestorer &) = delete;
	TreeRestorer &operator=(const TreeRestorer &) = delete;

	// The pids of the helpers the tree needs.
	static std::set<pid_t> helper_pids(const RestoreTree &tree, bool shell_job);

	// Every process with its pid, session and group; helpers gone.
	void create();
	// Has every live process restore itself, then gives each thread its
	// registers and lets all go at once (stopped, with leave_stopped).
	void restore(bool leave_stopped);

private:
	struct Made {
		pid_t pid;
		int channel;    // criu's end of its socket
		int index;      // in tree.procs; -1: a helper
		bool busy = false; // its answer to the last step is still to come
	};

	void make(pid_t creator, pid_t pid, int index); // creator 0: criu
	Made &made(pid_t pid);
	void ask(pid_t pid, uint32_t op, int32_t arg = 0, int32_t index = -1);
	void post(pid_t pid, uint32_t op, int32_t arg = 0, int32_t index = -1);
	void settle(pid_t pid);
	int32_t wait_reply(pid_t pid); // the descriptor the answer names
	// kind 0: files, by file id; 1: shared memory, by shmid; 2: deleted
	// files to map, by file id.
	void give_files(pid_t pid, const std::vector<std::pair<uint64_t, int>> &files, int kind);
	void give_all(pid_t pid, const std::vector<std::pair<uint64_t, int>> &files, int kind);
	void make_processes();
	void premap(const RestoreImages &p);
	void lead_session(const RestoreImages &p);
	void join_groups();
	void end_helpers_and_zombies();
	void check_parents() const;
	void restore_all(bool leave_stopped);

	const RestoreTree &tree_;
	const ImagesDir &dir_;
	bool shell_job_;
	bool released_ = false;
	int was_subreaper_ = 0;
	std::vector<Made> made_;
	std::map<pid_t, pid_t> helper_of_; // a helper's pid: who made it
	std::unique_ptr<MadeFiles> made_files_;
	std::unique_ptr<SharedFiles> shared_;
	std::unique_ptr<SharedMemory> shmem_;
	// On a terminal: the bytes the processes have read of their pages.
	std::optional<Progress> progress_;
	std::atomic<uint64_t> *pages_read_ = nullptr;
};

} // namespace criu
