// Pseudoterminals whose master the process holds: the master and its
// slave, each with its terminal settings and window size; the master's
// packet mode and lock.  Restore gets the same index back from /dev/ptmx,
// so that /dev/pts/<index> names the same terminal.
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

constexpr unsigned kMaxPtyTries = 4096; // ptmx opens to reach a wanted index

bool pty_slave_index(const std::string &path, uint32_t &index)
{
	unsigned long n;
	int used = 0;
	if (sscanf(path.c_str(), "/dev/pts/%lu%n", &n, &used) != 1 || size_t(used) != path.size())
		return false;
	index = uint32_t(n);
	return true;
}

// Whether a process of the tree holds the master of pty index.
bool holds_master(DumpedFd &d, uint32_t index)
{
	for (pid_t pid : d.c.pids) {
		UniqueFd pidfd(int(syscall(SYS_pidfd_open, pid, 0)));
		for (int fd : proc::list_fds(pid)) {
			char link[64] = {};
			std::string proc_link = format("/proc/%d/fd/%d", pid, fd);
			if (readlink(proc_link.c_str(), link, sizeof(link) - 1) < 0 || std::string(link) != "/dev/ptmx")
				continue;
			UniqueFd copy(pidfd ? int(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)) : -1);
			unsigned n;
			if (copy && ioctl(copy.get(), TIOCGPTN, &n) == 0 && n == index)
				return true;
		}
	}
	return false;
}

} // namespace

bool is_pty(const std::string &path)
{
	uint32_t index;
	return path == "/dev/ptmx" || pty_slave_index(path, index);
}

FileEntry *dump_tty(DumpedFd &d)
{
	int tty = d.copy();
	TtyEntry t = TTY_ENTRY__INIT;
	t.master = d.target == "/dev/ptmx";
	unsigned index = 0;
	if (t.master) {
		if (ioctl(tty, TIOCGPTN, &index) != 0)
			d.fail("cannot read the index of its pty (TIOCGPTN)", errno);
	} else {
		uint32_t i = 0;
		pty_slave_index(d.target, i);
		index = i;
		if (!holds_master(d, index))
			d.refuse(format("is the terminal %s, whose master is outside the tree: not supported yet",
					d.target.c_str()));
	}
	int queued = 0;
	if (ioctl(tty, FIONREAD, &queued) != 0)
		d.fail("cannot read how much its terminal holds (FIONREAD)", errno);
	if (queued)
		d.refuse(format("is %s with %d bytes not read yet: not supported yet", d.target.c_str(), queued));
	t.index = index;
	t.flags = d.flags;
	termios tio;
	if (tcgetattr(tty, &tio) != 0)
		d.fail("cannot read its terminal settings", errno);
	t.iflag = tio.c_iflag, t.oflag = tio.c_oflag, t.cflag = tio.c_cflag, t.lflag = tio.c_lflag;
	t.line = tio.c_line;
	uint8_t *cc = d.c.arena.array<uint8_t>(NCCS);
	memcpy(cc, tio.c_cc, NCCS);
	t.cc = {NCCS, cc};
	t.ispeed = uint32_t(cfgetispeed(&tio));
	t.ospeed = uint32_t(cfgetospeed(&tio));
	winsize ws;
	if (ioctl(tty, TIOCGWINSZ, &ws) != 0)
		d.fail("cannot read its window size", errno);
	t.rows = ws.ws_row, t.cols = ws.ws_col, t.xpixel = ws.ws_xpixel, t.ypixel = ws.ws_ypixel;
	if (t.master) {
		int pkt = 0, locked = 0;
		if (ioctl(tty, TIOCGPKT, &pkt) != 0 || ioctl(tty, TIOCGPTLCK, &locked) != 0)
			d.fail("cannot read its packet mode and lock", errno);
		t.has_packet_mode = t.has_locked = true;
		t.packet_mode = pkt != 0;
		t.locked = locked != 0;
	}
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__TTY;
	f.tty = d.c.arena.make(t);
	FileEntry *entry = d.c.arena.make(f);
	if (!t.master)
		d.c.pty_slaves.try_emplace(d.st.st_rdev, entry); // a session's controlling terminal, maybe
	return entry;
}

// A pty restored once for all its files: the master, opened from
// /dev/ptmx until the kernel gives the dumped index, stays here until the
// last file of it is restored.
struct PtyInode {
	UniqueFd master;
	size_t slaves = 0, slaves_open = 0;

	void make(FdinfoEngine &engine, uint32_t index)
	{
		std::vector<UniqueFd> others; // lower indexes, let go once index is ours
		for (unsigned tries = 0; tries < kMaxPtyTries; tries++) {
			UniqueFd m(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
			unsigned n;
			if (!m || ioctl(m.get(), TIOCGPTN, &n) != 0)
				throw Error(format("cannot open a pty to get pty %u", index), errno);
			if (n == index) {
				master.reset(engine.park(m.release()));
				return;
			}
			if (n > index)
				break;
			others.push_back(std::move(m));
		}
		throw Error(format("cannot get pty %u back: /dev/pts/%u is taken", index, index), EBUSY);
	}
};

namespace {

void apply_settings(int fd, const TtyEntry &t)
{
	termios tio = {};
	tio.c_iflag = t.iflag, tio.c_oflag = t.oflag, tio.c_cflag = t.cflag, tio.c_lflag = t.lflag;
	tio.c_line = cc_t(t.line);
	memcpy(tio.c_cc, t.cc.data, std::min<size_t>(t.cc.len, NCCS));
	if (cfsetispeed(&tio, speed_t(t.ispeed)) != 0 || cfsetospeed(&tio, speed_t(t.ospeed)) != 0 ||
	    tcsetattr(fd, TCSANOW, &tio) != 0)
		throw Error("cannot set its terminal settings", errno);
	winsize ws = {uint16_t(t.rows), uint16_t(t.cols), uint16_t(t.xpixel), uint16_t(t.ypixel)};
	if (ioctl(fd, TIOCSWINSZ, &ws) != 0)
		throw Error("cannot set its window size", errno);
}

class PtyEnd : public FileDesc {
public:
	PtyEnd(const FileEntry &e, std::shared_ptr<PtyInode> inode) : FileDesc(e), inode_(std::move(inode)) {}

	// The slaves open first (the master is unlocked meanwhile); the
	// master's lock and settings come last.
	Step open(FdinfoEngine &engine) override
	{
		const TtyEntry &t = *entry.tty;
		if (!inode_->master) {
			inode_->make(engine, t.index);
			int unlock = 0;
			if (ioctl(inode_->master.get(), TIOCSPTLCK, &unlock) != 0)
				throw Error(format("cannot unlock pty %u", t.index), errno);
		}
		if (!t.master) {
			std::string path = format("/dev/pts/%u", t.index);
			UniqueFd s(::open(path.c_str(), int(t.flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC));
			if (!s)
				throw Error("cannot open " + path, errno);
			apply_settings(s.get(), t);
			set_status_flags(s.get(), t.flags);
			inode_->slaves_open++;
			engine.hand_out(*this, engine.park(s.release()));
			return Step::Done;
		}
		if (inode_->slaves_open < inode_->slaves)
			return Step::NotYet;
		// One master per pty: opening it again would make another pty.
		int m = inode_->master.release();
		try {
			apply_settings(m, t);
			int pkt = t.packet_mode, locked = t.locked;
			if (ioctl(m, TIOCPKT, &pkt) != 0 || ioctl(m, TIOCSPTLCK, &locked) != 0)
				throw Error("cannot set its packet mode and lock", errno);
			set_status_flags(m, t.flags);
		} catch (const Error &) {
			close(m);
			throw;
		}
		engine.hand_out(*this, m);
		return Step::Done;
	}

	std::string waits_for() const override { return format("the slaves of pty %u to open", entry.tty->index); }

private:
	std::shared_ptr<PtyInode> inode_;
};

} // namespace

std::unique_ptr<FileDesc> tty_desc(const FileEntry &e, std::shared_ptr<PtyInode> &inode)
{
	if (!inode)
		inode = std::make_shared<PtyInode>();
	if (!e.tty->master)
		inode->slaves++;
	return std::make_unique<PtyEnd>(e, inode);
}

} // namespace criu
