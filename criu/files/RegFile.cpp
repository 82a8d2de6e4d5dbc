// Restore of regular files (deleted ones from their ghost image) and of
// the descriptors shared with the outside.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "Log.h"
#include "UniqueFd.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

Ghost make_ghost(const ImagesDir &dir, const FileEntry &f)
{
	const RegFileEntry &r = *f.reg;
	Ghost made{UniqueFd(open(r.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, r.mode & 07777)), r.path};
	if (!made.fd && errno == EEXIST) {
		// A file that took the name since (a log rotated): the deleted one
		// comes back beside it, and its descriptors show that name.
		made.path = format("%s.criu-ghost-%u", r.path, ghost_of(f));
		made.fd.reset(open(made.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, r.mode & 07777));
		if (made.fd)
			LOG_WARN("the deleted file %s comes back as %s (deleted): another file has its name now", r.path,
				 made.path.c_str());
	}
	if (!made.fd)
		throw Error(format("cannot recreate the deleted file %s", made.path.c_str()), errno);
	int out = made.fd.get();
	UniqueFd in(openat(dir.fd(), format("ghost-%u.img", ghost_of(f)).c_str(), O_RDONLY | O_CLOEXEC));
	int err = in ? 0 : errno;
	char buf[1 << 16];
	ssize_t n = 0;
	while (!err && (n = read(in.get(), buf, sizeof(buf))) > 0)
		if (write(out, buf, size_t(n)) != n)
			err = errno ? errno : EIO;
	if (n < 0)
		err = errno;
	if (err) {
		unlink(made.path.c_str());
		throw Error(format("cannot recreate the deleted file %s from ghost-%u.img", r.path, ghost_of(f)), err);
	}
	return made;
}

int open_ghost(const ImagesDir &dir, const FileEntry &f, uint32_t flags)
{
	Ghost made = make_ghost(dir, f);
	int fd = open(made.path.c_str(), int(flags));
	int err = errno;
	unlink(made.path.c_str());
	if (fd < 0)
		throw Error(format("cannot open the deleted file %s made again", made.path.c_str()), err);
	return fd;
}

namespace {

// A descriptor of deleted file r, made again (ghost): by its path while it
// is linked there still, so that it is opened as it was; else through
// /proc, a link to follow whatever the file was opened with (tempfile's
// O_NOFOLLOW, which no descriptor of it then has).
int reopen_ghost(const RegFileEntry &r, int ghost, uint32_t flags)
{
	struct stat there, made;
	if (stat(r.path, &there) == 0 && fstat(ghost, &made) == 0 && there.st_dev == made.st_dev &&
	    there.st_ino == made.st_ino)
		return ::open(r.path, int(flags | O_CLOEXEC));
	return ::open(format("/proc/self/fd/%d", ghost).c_str(), int((flags & ~uint32_t(O_NOFOLLOW)) | O_CLOEXEC));
}

class RegFile : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const RegFileEntry &r = *entry.reg;
		uint32_t flags = r.flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
		int made;
		if (!r.deleted)
			made = ::open(r.path, int(flags | O_CLOEXEC));
		else if (int ghost = engine.ghost(ghost_of(entry)); ghost >= 0)
			made = reopen_ghost(r, ghost, flags);
		else
			made = open_ghost(engine.dir(), entry, flags);
		if (made < 0)
			throw Error(format("cannot open %s", r.path), errno);
		made = engine.park(made);
		if (r.pos && lseek(made, off_t(r.pos), SEEK_SET) < 0) {
			int err = errno;
			close(made);
			throw Error(format("cannot seek %s to %llu", r.path, (unsigned long long)r.pos), err);
		}
		engine.hand_out(*this, made);
		return Step::Done;
	}
};

// What criu restore itself has on the same descriptor stands for it.
class ExternalFile : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		for (const FdinfoEntry *fle : fles)
			if (fcntl(int(fle->fd), F_GETFD) < 0)
				throw Error(format("fd %u was %s, shared with the outside: criu restore must be started "
						   "with its fd %u open (the same stdin/stdout/stderr)",
						   fle->fd, entry.external->key, fle->fd),
					    EBADF);
		engine.in_place(*this);
		return Step::Done;
	}
};

} // namespace

std::unique_ptr<FileDesc> reg_desc(const FileEntry &e) { return std::make_unique<RegFile>(e); }

std::unique_ptr<FileDesc> external_desc(const FileEntry &e) { return std::make_unique<ExternalFile>(e); }

} // namespace criu
