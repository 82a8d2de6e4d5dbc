// Pseudoterminals whose master the process holds: the master and its
// slave, each with its terminal settings and window size; the master's
// packet mode, lock, what the slave side wrote that it has not read, and
// what was typed that the slave side has not read.  Restore gets the same
// index back from /dev/ptmx, so that /dev/pts/<index> names the same
// terminal.
#include <algorithm>
#include <cstring>
#include <exception>
#include <sys/syscall.h>
#include <fcntl.h>
#include <poll.h>
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

// Whether a process of the tree has a descriptor for which is(copy, link)
// says yes (copy: criu's copy of it, link: what /proc names it).
template <typename Is> bool tree_has(DumpedFd &d, Is is)
{
	for (pid_t pid : d.c.pids) {
		UniqueFd pidfd(int(syscall(SYS_pidfd_open, pid, 0)));
		for (int fd : proc::list_fds(pid)) {
			char link[64] = {};
			if (readlink(format("/proc/%d/fd/%d", pid, fd).c_str(), link, sizeof(link) - 1) < 0)
				continue;
			UniqueFd copy(pidfd ? int(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)) : -1);
			if (copy && is(copy.get(), std::string(link)))
				return true;
		}
	}
	return false;
}

// Whether a process of the tree holds the master of pty index.
bool holds_master(DumpedFd &d, uint32_t index)
{
	return tree_has(d, [index](int fd, const std::string &link) {
		unsigned n;
		return link == "/dev/ptmx" && ioctl(fd, TIOCGPTN, &n) == 0 && n == index;
	});
}

// Whether a process of the tree holds a slave of pty index.
bool holds_slave(DumpedFd &d, uint32_t index)
{
	std::string path = format("/dev/pts/%u", index);
	return tree_has(d, [&path](int, const std::string &link) { return link == path; });
}

// An open slave of pty index that is criu's own (its flags are nobody
// else's), through the lock if the master has one.
UniqueFd open_slave(int master, uint32_t index)
{
	std::string path = format("/dev/pts/%u", index);
	int locked = 0;
	if (ioctl(master, TIOCGPTLCK, &locked) != 0)
		throw Error(format("cannot read the lock of pty %u", index), errno);
	int unlock = 0, lock = 1;
	if (locked && ioctl(master, TIOCSPTLCK, &unlock) != 0)
		throw Error(format("cannot unlock pty %u", index), errno);
	UniqueFd slave(open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
	int err = errno;
	if (locked && ioctl(master, TIOCSPTLCK, &lock) != 0)
		throw Error(format("cannot lock pty %u again", index), errno);
	if (!slave)
		throw Error("cannot open " + path, err);
	return slave;
}

// Runs work(slave) on a slave of criu's own of pty index with its settings
// changed by change() (what: what the change does, for messages), and sets
// them back whatever work() does.
template <typename Change, typename Work>
void with_settings(int master, uint32_t index, const char *what, Change change, Work work)
{
	UniqueFd slave = open_slave(master, index);
	termios tio;
	if (tcgetattr(slave.get(), &tio) != 0)
		throw Error(format("cannot read the settings of pty %u", index), errno);
	termios changed = tio;
	change(changed);
	if (tcsetattr(slave.get(), TCSANOW, &changed) != 0)
		throw Error(format("cannot %s pty %u", what, index), errno);
	std::exception_ptr failed;
	try {
		work(slave.get());
	} catch (...) {
		failed = std::current_exception();
	}
	if (tcsetattr(slave.get(), TCSANOW, &tio) != 0)
		throw Error(format("cannot set the settings of pty %u back", index), errno);
	if (failed)
		std::rethrow_exception(failed);
}

// Writes bytes through the slave of pty index as they are, for the master
// to read: without output processing (no "\r" before each "\n").
void write_through_slave(int master, uint32_t index, const uint8_t *bytes, size_t len)
{
	with_settings(
		master, index, "turn output processing off for",
		[](termios &t) { t.c_oflag &= ~tcflag_t(OPOST); },
		[&](int slave) {
			size_t done = 0;
			ssize_t n = 0;
			while (done < len && (n = write(slave, bytes + done, len - done)) > 0)
				done += size_t(n);
			if (done < len)
				throw Error(format("cannot write %zu bytes through pty %u (its output is stopped?)", len - done,
						   index),
					    n < 0 ? errno : EAGAIN);
		});
}

// What the slave side wrote and the master has not read: read out of the
// master and written back through the slave at once, so that the process
// finds it there whether it goes on or the dump fails.  In packet mode each
// read starts with a TIOCPKT_DATA byte, which is not the slave's.
ProtobufCBinaryData take_output(DumpedFd &d, int master, uint32_t index, size_t queued, bool packet)
{
	uint8_t *bytes = d.c.arena.array<uint8_t>(queued + 1);
	size_t got = 0;
	while (got < queued) {
		ssize_t n = read(master, bytes + got, queued - got + (packet ? 1 : 0));
		if (n <= (packet ? 1 : 0) || (packet && bytes[got] != TIOCPKT_DATA))
			d.fail(format("cannot read the %zu bytes pty %u holds", queued, index), n < 0 ? errno : EIO);
		if (packet)
			memmove(bytes + got, bytes + got + 1, size_t(--n));
		got += size_t(n);
	}
	try {
		write_through_slave(master, index, bytes, got);
	} catch (const Error &e) {
		d.fail(format("lost %zu bytes of what pty %u held (%s)", got, index, e.what()), e.err());
	}
	return {got, bytes};
}

// Types bytes into pty index again, as input its slave side has processed
// already: with echo and the input processing that would change them
// again (CR translation, signals) off for as long as it takes.  Canonical
// mode stays, so that lines are lines again and a partial one is still
// partial; flow control stays too (a master in packet mode would be told
// of a change).  TIOCSTI, not a write to the master: the line discipline
// takes the bytes before the settings come back, not a moment later.
void type_in(int master, uint32_t index, const uint8_t *bytes, size_t len)
{
	with_settings(
		master, index, "turn echo and input processing off for",
		[](termios &t) {
			t.c_lflag &= ~tcflag_t(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | ISIG | IEXTEN);
			t.c_iflag &= ~tcflag_t(ICRNL | INLCR | IGNCR | ISTRIP | IUCLC | PARMRK | INPCK | BRKINT);
		},
		[&](int slave) {
			for (size_t done = 0; done < len; done++)
				if (ioctl(slave, TIOCSTI, bytes + done) != 0)
					throw Error(format("cannot type %zu bytes into pty %u again (TIOCSTI)", len - done, index),
						    errno);
		});
}

// What was typed into pty index (written to its master) and its slave side
// has not read, a partial line in canonical mode too: read out of a slave
// of criu's own with canonical mode off for a moment (the line discipline
// gives all it holds then, and is empty when canonical mode comes back,
// which leaves it as before), and typed in again at once, so that the
// process finds it there whether it goes on or the dump fails.
ProtobufCBinaryData take_input(DumpedFd &d, int master, uint32_t index)
{
	std::vector<uint8_t> bytes;
	int queued = 0, err = 0;
	try {
		with_settings(
			master, index, "turn canonical mode off for",
			[](termios &t) {
				t.c_lflag &= ~tcflag_t(ICANON);
				t.c_cc[VMIN] = 0, t.c_cc[VTIME] = 0;
			},
			[&](int slave) {
				if (ioctl(slave, FIONREAD, &queued) != 0)
					throw Error(format("cannot read how much was typed into pty %u", index), errno);
				bytes.resize(size_t(std::max(queued, 0)));
				size_t got = 0;
				ssize_t n = 0;
				while (got < bytes.size() && (n = read(slave, bytes.data() + got, bytes.size() - got)) > 0)
					got += size_t(n);
				if (got < bytes.size())
					err = n < 0 ? errno : EIO;
				bytes.resize(got);
			});
		if (!bytes.empty())
			type_in(master, index, bytes.data(), bytes.size());
	} catch (const Error &e) {
		d.fail(bytes.empty() ? e.what()
				     : format("lost %zu bytes typed into pty %u (%s)", bytes.size(), index, e.what()),
		       e.err());
	}
	if (err)
		d.fail(format("cannot read the %d bytes typed into pty %u", queued, index), err);
	uint8_t *kept = d.c.arena.array<uint8_t>(bytes.size());
	std::copy(bytes.begin(), bytes.end(), kept);
	return {bytes.size(), kept};
}

// The terminal settings and window size of fd, an end of a pty, into t.
void read_settings(DumpedFd &d, int fd, TtyEntry &t)
{
	termios tio;
	if (tcgetattr(fd, &tio) != 0)
		d.fail("cannot read its terminal settings", errno);
	t.iflag = tio.c_iflag, t.oflag = tio.c_oflag, t.cflag = tio.c_cflag, t.lflag = tio.c_lflag;
	t.line = tio.c_line;
	uint8_t *cc = d.c.arena.array<uint8_t>(NCCS);
	memcpy(cc, tio.c_cc, NCCS);
	t.cc = {NCCS, cc};
	t.ispeed = uint32_t(cfgetispeed(&tio));
	t.ospeed = uint32_t(cfgetospeed(&tio));
	winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
		d.fail("cannot read its window size", errno);
	t.rows = ws.ws_row, t.cols = ws.ws_col, t.xpixel = ws.ws_xpixel, t.ypixel = ws.ws_ypixel;
}

// Pty index, whose master is the tree's, has had its slaves all closed:
// one may still be a session's controlling terminal, which restore takes
// through a slave file.  Its entry, from a slave of criu's own (harmless
// now that the others are closed), waits in closed_slaves for the
// session leaders' terminals to be known.
void closed_slave(DumpedFd &d, int master, uint32_t index)
{
	UniqueFd slave;
	try {
		slave = open_slave(master, index);
	} catch (const Error &e) {
		d.fail(e.what(), e.err());
	}
	struct stat st;
	if (fstat(slave.get(), &st) != 0)
		d.fail(format("cannot stat the slave of pty %u", index), errno);
	TtyEntry t = TTY_ENTRY__INIT;
	t.index = index;
	t.flags = O_RDWR;
	read_settings(d, slave.get(), t);
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__TTY;
	f.tty = d.c.arena.make(t);
	d.c.closed_slaves.try_emplace(st.st_rdev, d.c.arena.make(f));
}

} // namespace

bool is_pty(const std::string &path)
{
	uint32_t index;
	return path == "/dev/ptmx" || pty_slave_index(path, index);
}

bool is_tree_pty(DumpedFd &d)
{
	uint32_t index;
	return d.target == "/dev/ptmx" || (pty_slave_index(d.target, index) && holds_master(d, index));
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
	if (t.master && ioctl(tty, FIONREAD, &queued) != 0)
		d.fail("cannot read how much its terminal holds (FIONREAD)", errno);
	t.index = index;
	t.flags = d.flags;
	read_settings(d, tty, t);
	if (t.master) {
		int pkt = 0, locked = 0;
		if (ioctl(tty, TIOCGPKT, &pkt) != 0 || ioctl(tty, TIOCGPTLCK, &locked) != 0)
			d.fail("cannot read its packet mode and lock", errno);
		t.has_packet_mode = t.has_locked = true;
		t.packet_mode = pkt != 0;
		t.locked = locked != 0;
		// Every slave closed after one was open: the master reads what is
		// left, then EIO.  criu opens a slave of its own to put bytes back,
		// which is harmless then, or while a slave is open, but would end
		// the state of a pty whose slave was never opened.
		pollfd p = {tty, POLLPRI, 0};
		if (poll(&p, 1, 0) < 0)
			d.fail("cannot poll its terminal", errno);
		t.has_hung_up = true;
		t.hung_up = p.revents & POLLHUP;
		// In packet mode, a status change (a flush, flow control) that the
		// process has not read comes before the bytes: no read can take
		// the bytes and leave it.
		if (pkt && (p.revents & POLLPRI))
			d.refuse(format("is %s in packet mode with a status change not read yet: not supported yet",
					d.target.c_str()));
		if (queued && !t.hung_up && !holds_slave(d, index))
			d.refuse(format("is %s with %d bytes not read yet, and no process of the tree holds its slave: "
					"not supported yet",
					d.target.c_str(), queued));
		if (queued) {
			t.has_output = true;
			t.output = take_output(d, tty, index, size_t(queued), pkt != 0);
		}
		if (t.hung_up)
			closed_slave(d, tty, index);
		// A slave that nobody holds has read nothing: opening one to look
		// would end the state of a pty whose slave was never opened.
		if (!t.hung_up && holds_slave(d, index)) {
			t.input = take_input(d, tty, index);
			t.has_input = t.input.len != 0;
		}
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
			// Through the master, with the dumped flags alone: open() of
			// /dev/pts/N would add O_LARGEFILE, which a slave opened so
			// (openpty() does) has not, and no fcntl() can take away.
			// O_CLOEXEC would stay in the file's flags: the descriptor's
			// own flag is set instead.
			int flags = int(t.flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)) | O_NOCTTY;
			UniqueFd s(ioctl(inode_->master.get(), TIOCGPTPEER, flags));
			if (!s || fcntl(s.get(), F_SETFD, FD_CLOEXEC) != 0)
				throw Error(format("cannot open /dev/pts/%u (TIOCGPTPEER)", t.index), errno);
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
			if (t.has_output)
				write_through_slave(m, t.index, t.output.data, t.output.len);
			if (t.has_input)
				type_in(m, t.index, t.input.data, t.input.len);
			if (t.hung_up && !t.has_output)
				open_slave(m, t.index); // and closed: as the process's were
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
