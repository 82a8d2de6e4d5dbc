// memfd: its name, contents (memfd-<inode>.img), mode and seals.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

constexpr const char *kPrefix = "/memfd:";
constexpr const char *kDeleted = " (deleted)";

// Read through a file of criu's own: the process's may be write-only.
void save_contents(DumpedFd &d, uint32_t inode_id)
{
	UniqueFd in(open(d.link.c_str(), O_RDONLY | O_CLOEXEC));
	if (!in)
		d.fail("cannot open the memfd " + d.target, errno);
	std::string name = format("memfd-%u.img", inode_id);
	ImageWriter w(d.c.dir.fd(), d.c.dir.path(), ImageKind::Memfd, name);
	d.c.written.push_back(name);
	char buf[1 << 16];
	for (off_t at = 0;;) {
		ssize_t n = pread(in.get(), buf, sizeof(buf), at);
		if (n < 0)
			d.fail("cannot read the memfd " + d.target, errno);
		if (n == 0)
			break;
		w.write_raw(buf, size_t(n));
		at += n;
	}
	w.commit();
}

} // namespace

bool is_memfd(DumpedFd &d)
{
	return S_ISREG(d.st.st_mode) && d.target.rfind(kPrefix, 0) == 0 && fcntl(d.copy(), F_GET_SEALS) >= 0;
}

FileEntry *dump_memfd(DumpedFd &d)
{
	int seals = fcntl(d.copy(), F_GET_SEALS);
	if (seals < 0)
		d.fail("cannot read the seals of " + d.target, errno);
	std::string name = d.target.substr(strlen(kPrefix));
	if (name.size() >= strlen(kDeleted) && name.compare(name.size() - strlen(kDeleted), std::string::npos, kDeleted) == 0)
		name.resize(name.size() - strlen(kDeleted));
	MemfdEntry m = MEMFD_ENTRY__INIT;
	bool first;
	m.inode_id = d.inode_id(first);
	m.name = d.c.arena.str(name);
	m.flags = d.flags;
	m.pos = d.info.pos;
	m.mode = d.st.st_mode;
	m.size = uint64_t(d.st.st_size);
	m.seals = uint32_t(seals);
	if (first)
		save_contents(d, m.inode_id);
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__MEMFD;
	f.memfd = d.c.arena.make(m);
	return d.c.arena.make(f);
}

int make_memfd(const ImagesDir &dir, const MemfdEntry &m)
{
	UniqueFd fd(memfd_create(m.name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd)
		throw Error(format("cannot make the memfd %s", m.name), errno);
	std::string image = format("memfd-%u.img", m.inode_id);
	UniqueFd in(openat(dir.fd(), image.c_str(), O_RDONLY | O_CLOEXEC));
	if (!in)
		throw Error(format("cannot open %s/%s", dir.path().c_str(), image.c_str()), errno);
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(in.get(), buf, sizeof(buf))) > 0)
		if (write(fd.get(), buf, size_t(n)) != n)
			throw Error(format("cannot fill the memfd %s", m.name), errno);
	if (n < 0)
		throw Error(format("cannot read %s", image.c_str()), errno);
	struct stat st;
	if (fstat(fd.get(), &st) != 0 || uint64_t(st.st_size) != m.size)
		throw Error(format("%s holds %llu bytes, but the memfd %s had %llu", image.c_str(),
				   (unsigned long long)st.st_size, m.name, (unsigned long long)m.size),
			    EINVAL);
	// Sealed last: F_SEAL_WRITE and F_SEAL_EXEC would refuse the rest.
	if (fchmod(fd.get(), m.mode & 07777) != 0)
		throw Error(format("cannot set the mode of the memfd %s", m.name), errno);
	if (m.seals && fcntl(fd.get(), F_ADD_SEALS, int(m.seals)) != 0)
		throw Error(format("cannot seal the memfd %s with %x", m.name, m.seals), errno);
	return fd.release();
}

// The memfd, made once for all its files: each opens its own through it.
struct MemfdInode {
	UniqueFd fd;
};

namespace {

class Memfd : public FileDesc {
public:
	Memfd(const FileEntry &e, std::shared_ptr<MemfdInode> inode) : FileDesc(e), inode_(std::move(inode)) {}

	Step open(FdinfoEngine &engine) override
	{
		const MemfdEntry &m = *entry.memfd;
		int inode = engine.memfd(m.inode_id); // made by criu for mappings
		if (inode < 0) {
			if (!inode_->fd)
				inode_->fd.reset(engine.park(make_memfd(engine.dir(), m)));
			inode = inode_->fd.get();
		}
		UniqueFd made(engine.park(reopen(inode, m.flags)));
		if (m.pos && lseek(made.get(), off_t(m.pos), SEEK_SET) < 0)
			throw Error(format("cannot seek the memfd %s to %llu", m.name, (unsigned long long)m.pos), errno);
		set_status_flags(made.get(), m.flags);
		engine.hand_out(*this, made.release());
		return Step::Done;
	}

private:
	std::shared_ptr<MemfdInode> inode_;
};

} // namespace

std::unique_ptr<FileDesc> memfd_desc(const FileEntry &e, std::shared_ptr<MemfdInode> &inode)
{
	if (!inode)
		inode = std::make_shared<MemfdInode>();
	return std::make_unique<Memfd>(e, inode);
}

} // namespace criu
