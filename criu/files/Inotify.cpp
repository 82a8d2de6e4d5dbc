// inotify: its watches, each by the path of the watched inode (found at
// the dump from the file handle fdinfo shows) and the same watch number.
// Events queued at the dump are not restored.
#include <algorithm>
#include <climits>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// A directory of a mount of the file system with the kernel's device
// number sdev, from criu's mountinfo (the process shares criu's mounts);
// open_by_handle_at() refuses an O_PATH one.
UniqueFd mount_of(uint32_t sdev)
{
	std::ifstream in("/proc/self/mountinfo");
	std::string dev = format("%u:%u", sdev >> 20, sdev & 0xfffff);
	for (std::string line; std::getline(in, line);) {
		std::istringstream f(line);
		std::string id, parent, majmin, root, point;
		if (f >> id >> parent >> majmin >> root >> point && majmin == dev)
			return UniqueFd(open(point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	}
	return UniqueFd();
}

std::string watch_path(DumpedFd &d, const proc::InotifyWatch &w)
{
	UniqueFd mnt = mount_of(w.sdev);
	if (!mnt)
		d.refuse(format("is an inotify watching inode %llu of a file system criu does not see (device %x)",
				(unsigned long long)w.ino, w.sdev));
	std::vector<uint8_t> buf(sizeof(file_handle) + w.handle.size());
	auto *h = reinterpret_cast<file_handle *>(buf.data());
	h->handle_bytes = unsigned(w.handle.size());
	h->handle_type = w.handle_type;
	std::copy(w.handle.begin(), w.handle.end(), h->f_handle);
	UniqueFd f(open_by_handle_at(mnt.get(), h, O_PATH | O_CLOEXEC));
	if (!f)
		d.fail(format("cannot open the inode %llu its inotify watch %u watches", (unsigned long long)w.ino, w.wd),
		       errno);
	char path[PATH_MAX];
	ssize_t n = readlink(format("/proc/self/fd/%d", f.get()).c_str(), path, sizeof(path) - 1);
	struct stat st;
	if (n <= 0 || path[0] != '/' || stat(std::string(path, size_t(n)).c_str(), &st) != 0 || st.st_ino != w.ino)
		d.refuse(format("is an inotify watching inode %llu, which has no path (deleted?): not supported",
				(unsigned long long)w.ino));
	return std::string(path, size_t(n));
}

} // namespace

FileEntry *dump_inotify(DumpedFd &d)
{
	InotifyEntry e = INOTIFY_ENTRY__INIT;
	e.flags = d.flags;
	e.n_watches = d.info.inotify.size();
	e.watches = d.c.arena.messages(e.n_watches, InotifyWatchEntry(INOTIFY_WATCH_ENTRY__INIT));
	for (size_t i = 0; i < e.n_watches; i++) {
		const proc::InotifyWatch &w = d.info.inotify[i];
		std::string path = watch_path(d, w);
		struct stat st;
		if (stat(path.c_str(), &st) != 0)
			d.fail("cannot stat " + path, errno);
		InotifyWatchEntry &out = *e.watches[i];
		out.wd = w.wd;
		out.mask = w.mask;
		out.path = d.c.arena.str(path);
		out.dev = st.st_dev;
		out.ino = st.st_ino;
	}
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__INOTIFY;
	f.inotify = d.c.arena.make(e);
	return d.c.arena.make(f);
}

namespace {

// How many watches restore adds and removes to reach a watch number.
constexpr uint32_t kMaxWdSteps = 1 << 16;

class Inotify : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const InotifyEntry &e = *entry.inotify;
		UniqueFd made(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
		if (!made)
			throw Error("cannot make an inotify", errno);
		std::vector<const InotifyWatchEntry *> watches(e.watches, e.watches + e.n_watches);
		std::sort(watches.begin(), watches.end(), [](auto *a, auto *b) { return a->wd < b->wd; });
		for (const InotifyWatchEntry *w : watches)
			add(made.get(), *w);
		// Removing the watches that had the wrong numbers queued events
		// (IN_IGNORED) the process must not see.
		char buf[4096];
		while (read(made.get(), buf, sizeof(buf)) > 0)
			continue;
		set_status_flags(made.get(), e.flags);
		engine.hand_out(*this, engine.park(made.release()));
		return Step::Done;
	}

private:
	// The kernel numbers watches in turn: watches are added and removed
	// until the next number is the one the watch had.
	static void add(int ino, const InotifyWatchEntry &w)
	{
		struct stat st;
		if (stat(w.path, &st) != 0)
			throw Error(format("watch %u: cannot find %s", w.wd, w.path), errno);
		if (st.st_dev != w.dev || st.st_ino != w.ino)
			throw Error(format("watch %u: %s is not the file it watched at the dump", w.wd, w.path), ESTALE);
		for (uint32_t step = 0; step < kMaxWdSteps; step++) {
			int wd = inotify_add_watch(ino, w.path, w.mask);
			if (wd < 0)
				throw Error(format("cannot watch %s for events %x", w.path, w.mask), errno);
			if (uint32_t(wd) == w.wd)
				return;
			if (uint32_t(wd) > w.wd || inotify_rm_watch(ino, wd) != 0)
				break;
		}
		throw Error(format("cannot give the watch of %s its number %u", w.path, w.wd), EINVAL);
	}
};

} // namespace

std::unique_ptr<FileDesc> inotify_desc(const FileEntry &e) { return std::make_unique<Inotify>(e); }

} // namespace criu
