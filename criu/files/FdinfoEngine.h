#pragma once

#include <map>
#include <memory>
#include <vector>

#include "FileDesc.h"
#include "ImagesDir.h"
#include "ServiceFds.h"

namespace criu {

// Opens the files of the task that restores itself and puts each on the
// descriptors it had (the seed's "fdinfo engine"): it runs the open steps
// of all files, round after round, until every one is done, and fails
// with the files that wait for each other when a round changes nothing.
// Descriptors never land on criu's service descriptors, and a descriptor
// not in its place yet never sits where another is to go.
class FdinfoEngine {
public:
	FdinfoEngine(const ServiceFds &sfd, const ImagesDir &dir) : sfd_(sfd), dir_(dir) {}

	// The file and the descriptors that refer to it.
	void add(std::unique_ptr<FileDesc> file, std::vector<const FdinfoEntry *> fles);
	void run();
	// Closes what run() left parked: the files with no descriptor.
	void close_unplaced();
	// For files opened on behalf of other processes: their locks are
	// theirs to take (a POSIX lock is the taker's), and so is the owner for
	// SIGIO (a process that may not be made yet).
	void leave_to_processes() { for_processes_ = true; }
	// Deleted files made again for several files of the tree (by the id of
	// their ghost image) and memfds made for mappings (by inode id): their
	// files are opened from them.
	void use_made(const std::map<uint32_t, int> &ghosts, const std::map<uint32_t, int> &memfds)
	{
		ghosts_ = &ghosts, memfds_ = &memfds;
	}

	// For open steps.
	const ImagesDir &dir() const { return dir_; }
	// Moves a descriptor just made out of the way of the ones still to be
	// placed; returns its new number.  The caller owns it.
	int park(int fd) const;
	// file's master descriptor is fd (parked, now the engine's): it goes to
	// its number, and its slaves get copies.
	void hand_out(FileDesc &file, int fd);
	// file's descriptors are in place already (inherited by criu restore).
	void in_place(FileDesc &file);
	// The file that descriptor fd of the task refers to, or nullptr.
	FileDesc *file_at(int fd) const;
	// The file of files.img id, or nullptr.  A file with no descriptor (in
	// flight in a unix socket; opened by criu for several processes) keeps
	// its own parked.
	FileDesc *file_by_id(uint32_t id) const;
	// The deleted file of ghost image id made again (use_made), or -1.
	int ghost(uint32_t id) const { return made(ghosts_, id); }
	// The memfd of inode id made for mappings (use_made), or -1.
	int memfd(uint32_t inode_id) const { return made(memfds_, inode_id); }

private:
	void finish(FileDesc &file);
	static int made(const std::map<uint32_t, int> *fds, uint32_t id)
	{
		if (!fds)
			return -1;
		auto it = fds->find(id);
		return it == fds->end() ? -1 : it->second;
	}

	const ServiceFds &sfd_;
	const ImagesDir &dir_;
	std::vector<std::unique_ptr<FileDesc>> files_;
	std::map<int, FileDesc *> by_fd_;
	std::map<uint32_t, FileDesc *> by_id_;
	bool for_processes_ = false;
	const std::map<uint32_t, int> *ghosts_ = nullptr;
	const std::map<uint32_t, int> *memfds_ = nullptr;
};

} // namespace criu
