// Anonymous pipes and FIFOs, with the bytes buffered in them.
#include <fcntl.h>
#include <sys/ioctl.h>
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

// What the pipe holds, copied with tee() so that it stays in the pipe for
// the process (when it runs on after the dump).  A read end of its own,
// opened through /proc, works whichever end the process has.
void save_data(DumpedFd &d, PipeEntry &p)
{
	UniqueFd rd(open(d.link.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (!rd)
		d.fail(format("cannot open %s to read what is buffered in it", d.target.c_str()), errno);
	int size = fcntl(rd.get(), F_GETPIPE_SZ);
	int avail = 0;
	if (size < 0 || ioctl(rd.get(), FIONREAD, &avail) < 0)
		d.fail(format("cannot read the size of %s", d.target.c_str()), errno);
	p.has_size = true;
	p.size = uint32_t(size);
	if (!avail)
		return;
	int ends[2];
	if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) < 0)
		d.fail("cannot make a pipe to copy it into", errno);
	UniqueFd copy_rd(ends[0]), copy_wr(ends[1]);
	if (fcntl(copy_wr.get(), F_SETPIPE_SZ, size) < size)
		d.fail(format("cannot make a pipe of %d bytes to copy it into", size), errno);
	ssize_t n = tee(rd.get(), copy_wr.get(), size_t(avail), SPLICE_F_NONBLOCK);
	if (n != avail)
		d.fail(format("copied %zd of the %d bytes in %s", n, avail, d.target.c_str()), n < 0 ? errno : EIO);
	uint8_t *data = d.c.arena.array<uint8_t>(size_t(avail));
	for (ssize_t got = 0; got < avail;) {
		ssize_t r = read(copy_rd.get(), data + got, size_t(avail - got));
		if (r <= 0)
			d.fail(format("cannot read the copy of %s", d.target.c_str()), r < 0 ? errno : EIO);
		got += r;
	}
	p.has_data = true;
	p.data = {size_t(avail), data};
}

} // namespace

FileEntry *dump_pipe(DumpedFd &d)
{
	bool fifo = d.target.rfind("pipe:[", 0) != 0;
	if (d.flags & O_DIRECT)
		d.refuse(format("is a pipe in packet mode (O_DIRECT, %s): not supported yet", d.target.c_str()));
	if (fifo && d.st.st_nlink == 0)
		d.refuse(format("is a FIFO removed from its directory (%s): not supported yet", d.target.c_str()));
	PipeEntry p = PIPE_ENTRY__INIT;
	bool first;
	p.pipe_id = d.inode_id(first);
	p.flags = d.flags;
	if (fifo)
		p.path = d.c.arena.str(d.target);
	// The bytes belong to the pipe, not to an end: they go with its first file.
	if (first)
		save_data(d, p);
	FileEntry f = FILE_ENTRY__INIT;
	f.type = fifo ? FILE_ENTRY__TYPE_T__FIFO : FILE_ENTRY__TYPE_T__PIPE;
	f.pipe = d.c.arena.make(p);
	return d.c.arena.make(f);
}

// A pipe (or FIFO) made once for all its files, with its bytes back in it.
// Its two ends stay open here until every file is restored: each file
// opens its own end through them, and nobody waits for a reader or writer.
struct PipeInode {
	UniqueFd rd, wr;
	bool rd_taken = false, wr_taken = false;
	const PipeEntry *saved = nullptr; // the entry with the pipe's size and bytes

	void make(FdinfoEngine &engine, const PipeEntry &p)
	{
		if (p.path) {
			struct stat st;
			if (stat(p.path, &st) != 0)
				throw Error(format("the FIFO %s is not there any more", p.path), errno);
			if (!S_ISFIFO(st.st_mode))
				throw Error(format("%s is not a FIFO any more", p.path), EINVAL);
			rd.reset(engine.park(checked(open(p.path, O_RDWR | O_NONBLOCK | O_CLOEXEC), p)));
			wr.reset(engine.park(checked(dup(rd.get()), p)));
		} else {
			int ends[2];
			checked(pipe2(ends, O_CLOEXEC), p);
			// The kernel gives the lowest free numbers: descriptors of
			// files not placed yet may be there.
			rd.reset(engine.park(ends[0]));
			wr.reset(engine.park(ends[1]));
		}
		if (!saved)
			return;
		if (fcntl(wr.get(), F_SETPIPE_SZ, int(saved->size)) < 0)
			throw Error(format("cannot make pipe %u hold %u bytes", p.pipe_id, saved->size), errno);
		for (size_t done = 0; saved->has_data && done < saved->data.len;) {
			ssize_t n = write(wr.get(), saved->data.data + done, saved->data.len - done);
			if (n <= 0)
				throw Error(format("cannot put the %zu bytes of pipe %u back", saved->data.len, p.pipe_id),
					    n < 0 ? errno : EIO);
			done += size_t(n);
		}
	}

	// An end for a file of the pipe: the very end pipe() made for the first
	// file of each direction that pipe() made too, an end opened again
	// through /proc (as O_LARGEFILE shows) for the others.
	int end(const PipeEntry &p)
	{
		bool write = (p.flags & O_ACCMODE) == O_WRONLY;
		const UniqueFd &from = write ? wr : rd;
		bool &taken = write ? wr_taken : rd_taken;
		if (!p.path && !(p.flags & O_LARGEFILE) && !taken) {
			taken = true;
			return checked(dup(from.get()), p);
		}
		return reopen(from.get(), p.flags | O_NONBLOCK);
	}

	static int checked(int ret, const PipeEntry &p)
	{
		if (ret < 0)
			throw Error(p.path ? format("cannot open the FIFO %s", p.path) : format("cannot make pipe %u", p.pipe_id),
				    errno);
		return ret;
	}
};

namespace {

class PipeEnd : public FileDesc {
public:
	PipeEnd(const FileEntry &e, std::shared_ptr<PipeInode> inode) : FileDesc(e), inode_(std::move(inode)) {}

	Step open(FdinfoEngine &engine) override
	{
		const PipeEntry &p = *entry.pipe;
		if (!inode_->rd)
			inode_->make(engine, p);
		int made = engine.park(inode_->end(p));
		try {
			set_status_flags(made, p.flags);
		} catch (const Error &) {
			close(made);
			throw;
		}
		engine.hand_out(*this, made);
		return Step::Done;
	}

private:
	std::shared_ptr<PipeInode> inode_;
};

} // namespace

std::unique_ptr<FileDesc> pipe_desc(const FileEntry &e, std::shared_ptr<PipeInode> &inode)
{
	if (!inode)
		inode = std::make_shared<PipeInode>();
	if (e.pipe->has_size)
		inode->saved = e.pipe;
	return std::make_unique<PipeEnd>(e, inode);
}

} // namespace criu
