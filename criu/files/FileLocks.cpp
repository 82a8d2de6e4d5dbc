// Locks held through open files: flock(), POSIX record locks of the
// process, open file description (OFD) locks.  fdinfo lists those of each
// descriptor; restore takes them again on the restored file, without
// waiting: a lock someone else holds now is an error.
#include <cinttypes>
#include <fcntl.h>
#include <sys/file.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

void dump_locks(DumpedFd &d, FileEntry &f)
{
	std::vector<FileLockEntry *> locks;
	for (const proc::FileLock &l : d.info.locks) {
		FileLockEntry e = FILE_LOCK_ENTRY__INIT;
		if (l.kind == "FLOCK")
			e.kind = FILE_LOCK_ENTRY__KIND_T__FLOCK;
		else if (l.kind == "POSIX")
			e.kind = FILE_LOCK_ENTRY__KIND_T__POSIX;
		else if (l.kind == "OFDLCK")
			e.kind = FILE_LOCK_ENTRY__KIND_T__OFD;
		else
			d.refuse(format("holds a %s on %s: not supported yet", l.kind.c_str(), d.target.c_str()));
		if (l.mandatory)
			d.refuse(format("holds a mandatory lock on %s: not supported", d.target.c_str()));
		e.write = l.write;
		e.start = l.start;
		if (l.end != UINT64_MAX) {
			e.has_end = true;
			e.end = l.end;
		}
		locks.push_back(d.c.arena.make(e));
	}
	f.n_locks = locks.size();
	f.locks = f.n_locks ? d.c.arena.array<FileLockEntry *>(f.n_locks) : nullptr;
	std::copy(locks.begin(), locks.end(), f.locks);
}

void take_locks(const FileEntry &f, int fd)
{
	for (size_t i = 0; i < f.n_locks; i++) {
		const FileLockEntry &l = *f.locks[i];
		const char *how = l.write ? "exclusive" : "shared";
		if (l.kind == FILE_LOCK_ENTRY__KIND_T__FLOCK) {
			if (flock(fd, (l.write ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0)
				throw Error(format("cannot take its %s flock() back", how), errno);
			continue;
		}
		struct flock r = {};
		r.l_type = l.write ? F_WRLCK : F_RDLCK;
		r.l_whence = SEEK_SET;
		r.l_start = off_t(l.start);
		r.l_len = l.has_end ? off_t(l.end - l.start + 1) : 0;
		int cmd = l.kind == FILE_LOCK_ENTRY__KIND_T__OFD ? F_OFD_SETLK : F_SETLK;
		if (fcntl(fd, cmd, &r) != 0)
			throw Error(format("cannot take its %s %s lock of bytes %" PRIu64 "-%s back", how,
					   l.kind == FILE_LOCK_ENTRY__KIND_T__OFD ? "OFD" : "POSIX", l.start,
					   l.has_end ? format("%" PRIu64, l.end).c_str() : "end"),
				    errno);
	}
}

} // namespace criu
