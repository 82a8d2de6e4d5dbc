#include "Infection.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "Disassembler.h"
#include "format.h"

namespace compel::core {

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kDefaultStack = 64 << 10;

size_t page_up(size_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// Room for the most descriptors one message carries.
union CmsgBuf {
	char bytes[CMSG_SPACE(COMPEL_MAX_FDS * sizeof(int))];
	cmsghdr align;
};

} // namespace

void Infection::fail(const std::string &what, int err) const
{
	throw Error(format("pid %d: ", task_.pid()) + what, err);
}

Infection::Infection(Task &task, const compel_blob_desc *const *blobs, const compel_infect_opts &opts)
	: task_(task), thread_(task.leader())
{
	const TaskArch &arch = *thread_.arch;
	blob_ = blobs ? compel_blob_for_arch(blobs, arch.id()) : nullptr;
	if (!blob_)
		fail(format("is an %s task, and the blob has no %s build", arch.name(), arch.name()), ENOEXEC);
	int64_t entry = compel_blob_export_offset(blob_, "compel_entry");
	if (entry < 0)
		fail(format("blob %s has no parasite entry: build it with compel_add_blob(... PARASITE)",
			    blob_->name),
		     ENOEXEC);
	entry_ = uint64_t(entry);

	ctl_off_ = blob_->mem_size;
	args_off_ = ctl_off_ + page_up(sizeof(compel_parasite_ctl));
	args_size_ = opts.args_size;
	stack_top_ = args_off_ + page_up(args_size_) + (opts.stack_size ? page_up(opts.stack_size) : kDefaultStack);
	total_ = stack_top_;

	try {
		map_blob();
		open_socket();
	} catch (const Error &) {
		remove_from_victim();
		release_host();
		throw;
	}
}

Infection::~Infection()
{
	if (base_)
		remove_from_victim();
	release_host();
}

void Infection::map_blob()
{
	// Reserve the address range, and use its first bytes for the memfd's
	// name: the victim has no other memory compel may write to.
	int64_t base = task_.mmap(thread_, 0, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base < 0)
		fail(format("cannot map %zu bytes for the parasite", total_), int(-base));
	base_ = uint64_t(base);
	static const char name[] = "compel";
	task_.write_mem(base_, name, sizeof(name));
	int64_t vfd = task_.syscall(thread_, COMPEL_SYS_memfd_create, {base_, MFD_CLOEXEC});
	if (vfd < 0)
		fail("memfd_create in the victim", int(-vfd));

	// The host opens the victim's memfd through /proc, a path only a
	// process allowed to trace the victim can follow; 0600 keeps the file
	// to its owner even there.
	int err = 0;
	memfd_ = open(format("/proc/%d/fd/%lld", task_.pid(), (long long)vfd).c_str(), O_RDWR | O_CLOEXEC);
	if (memfd_ < 0 || fchmod(memfd_, 0600) != 0 || ftruncate(memfd_, off_t(total_)) != 0)
		err = errno;
	if (!err) {
		void *p = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0);
		if (p == MAP_FAILED)
			err = errno;
		else
			host_ = static_cast<uint8_t *>(p);
	}
	int64_t code = 0, data = 0;
	if (!err) {
		code = task_.mmap(thread_, base_, blob_->exec_size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED,
				  int(vfd), 0);
		data = task_.mmap(thread_, base_ + blob_->exec_size, total_ - blob_->exec_size,
				  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, int(vfd), blob_->exec_size);
	}
	task_.syscall(thread_, COMPEL_SYS_close, {uint64_t(vfd)});
	if (err)
		fail("cannot map the parasite's memfd in the host", err);
	if (code < 0 || data < 0)
		fail("cannot map the parasite's memfd in the victim", int(code < 0 ? -code : -data));

	if (compel_blob_relocate(blob_, host_, base_) != 0)
		fail(format("blob %s is inconsistent: a relocation lies outside it", blob_->name), EINVAL);
	compel_parasite_ctl *c = ctl();
	c->magic = COMPEL_CTL_MAGIC;
	c->version = COMPEL_RPC_VERSION;
	c->sock = -1;
	c->args = base_ + args_off_;
	c->args_size = uint32_t(args_size_);
}

void Infection::open_socket()
{
	// A socketpair made in the victim, one end pulled into the host with
	// pidfd_getfd(): it has no name, so no other process can connect.
	uint64_t sv = base_ + ctl_off_ + offsetof(compel_parasite_ctl, sv);
	int64_t r = task_.syscall(thread_, COMPEL_SYS_socketpair, {AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv});
	if (r < 0)
		fail("socketpair in the victim", int(-r));
	int host_end = ctl()->sv[0];
	victim_sock_ = ctl()->sv[1];
	sock_ = int(::syscall(SYS_pidfd_getfd, task_.pidfd(), host_end, 0));
	int err = sock_ < 0 ? errno : 0;
	task_.syscall(thread_, COMPEL_SYS_close, {uint64_t(host_end)});
	if (err)
		fail("cannot take the control socket (pidfd_getfd)", err);
	ctl()->sock = victim_sock_;
}

void Infection::remove_from_victim() noexcept
{
	// Best effort, for error paths: what fails here leaves the task as
	// compel_detach() will find it.
	try {
		if (victim_sock_ >= 0)
			task_.syscall(thread_, COMPEL_SYS_close, {uint64_t(victim_sock_)});
		victim_sock_ = -1;
		if (base_)
			task_.syscall(thread_, COMPEL_SYS_munmap, {base_, total_});
		base_ = 0;
		task_.restore(thread_);
	} catch (const Error &) {
	}
}

void Infection::release_host() noexcept
{
	if (host_)
		munmap(host_, total_);
	if (memfd_ >= 0)
		close(memfd_);
	if (sock_ >= 0)
		close(sock_);
	for (int fd : fds_in_)
		close(fd);
	fds_in_.clear();
	host_ = nullptr;
	memfd_ = sock_ = -1;
}

std::string Infection::cmd_name(unsigned cmd) const
{
	if (cmd == COMPEL_CMD_DAEMON)
		return "daemon loop";
	if (cmd == COMPEL_CMD_FINI)
		return "daemon exit";
	return format("command %u", cmd);
}

int Infection::call(unsigned cmd)
{
	if (crashed_)
		fail("the parasite crashed: cure the task", EFAULT);
	if (cmd < COMPEL_CMD_USER)
		fail(format("command %u is one of compel's own (user commands start at %u)", cmd, COMPEL_CMD_USER),
		     EINVAL);
	try {
		return daemon_ ? call_daemon(cmd) : call_sync(cmd);
	} catch (const Error &e) {
		if (std::string(e.what()).rfind("pid ", 0) == 0)
			throw;
		throw e.with_context(format("pid %d: %s", task_.pid(), cmd_name(cmd).c_str()));
	}
}

int Infection::call_sync(unsigned cmd)
{
	ctl()->cmd = cmd;
	ctl()->ret = 0;
	RegSet r = thread_.regs;
	thread_.arch->set_call(r, base_ + entry_, base_ + stack_top_);
	thread_.thread.set_regs(r);
	thread_.regs_dirty = true;
	check_stopped(task_.run(thread_, Task::Resume::Cont), cmd);
	drain_log();
	return ctl()->ret;
}

void Infection::check_stopped(const Stop &s, unsigned cmd)
{
	// The parasite stops itself with tgkill(SIGTRAP); a trap instruction or
	// a fault has another si_code.
	if (s.kind == Stop::Kind::Signal && s.sig == SIGTRAP) {
		siginfo_t si = thread_.thread.get_siginfo();
		if (si.si_code == SI_TKILL && si.si_pid == task_.pid())
			return;
	}
	crashed(s, cmd);
}

void Infection::daemon_start()
{
	if (crashed_)
		fail("the parasite crashed: cure the task", EFAULT);
	if (daemon_)
		return;
	ctl()->cmd = COMPEL_CMD_DAEMON;
	RegSet r = thread_.regs;
	thread_.arch->set_call(r, base_ + entry_, base_ + stack_top_);
	thread_.thread.set_regs(r);
	thread_.regs_dirty = true;
	thread_.thread.cont(0);
	daemon_ = true;
}

void Infection::daemon_stop()
{
	if (!daemon_)
		return;
	call_daemon(COMPEL_CMD_FINI);
	daemon_ = false;
	check_stopped(task_.run(thread_, Task::Resume::Cont, false), COMPEL_CMD_DAEMON);
	drain_log();
	if (ctl()->ret < 0)
		fail(format("the parasite's daemon loop failed: %s", Error::errno_text(-ctl()->ret).c_str()),
		     -ctl()->ret);
}

int Infection::call_daemon(unsigned cmd)
{
	send_msg({COMPEL_MSG_CMD, cmd, 0, 0});
	compel_rpc_msg m = wait_reply(cmd);
	drain_log();
	return m.ret;
}

void Infection::send_msg(const compel_rpc_msg &m, const int *fds, unsigned n)
{
	iovec iov = {const_cast<compel_rpc_msg *>(&m), sizeof(m)};
	msghdr h = {};
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	CmsgBuf cbuf;
	if (n) {
		h.msg_control = cbuf.bytes;
		h.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cmsghdr *c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		std::memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	if (sendmsg(sock_, &h, MSG_NOSIGNAL) != ssize_t(sizeof(m)))
		fail("cannot send to the parasite", errno);
}

compel_rpc_msg Infection::wait_reply(unsigned cmd)
{
	for (int timeout_ms = 1;; timeout_ms = std::min(timeout_ms * 2, 100)) {
		pollfd p = {sock_, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) > 0) {
			compel_rpc_msg m;
			if (!receive(m))
				fail(format("the parasite closed its control socket during %s", cmd_name(cmd).c_str()),
				     ECONNRESET);
			if (m.type == COMPEL_MSG_FDS)
				continue;
			if (m.type != COMPEL_MSG_REPLY || m.cmd != cmd)
				fail(format("the parasite answered %s with message %u for command %u",
					    cmd_name(cmd).c_str(), m.type, m.cmd),
				     EPROTO);
			return m;
		}
		// No answer yet: is the parasite still running?
		if (auto s = thread_.thread.poll(); s && !task_.absorb(thread_, *s, Task::Resume::Cont)) {
			daemon_ = false;
			crashed(*s, cmd);
		}
	}
}

bool Infection::receive(compel_rpc_msg &m)
{
	iovec iov = {&m, sizeof(m)};
	CmsgBuf cbuf;
	msghdr h = {};
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = cbuf.bytes;
	h.msg_controllen = sizeof(cbuf.bytes);
	ssize_t n;
	do
		n = recvmsg(sock_, &h, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return false;
	if (n < 0)
		fail("cannot receive from the parasite", errno);
	for (cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			const int *fds = reinterpret_cast<const int *>(CMSG_DATA(c));
			fds_in_.insert(fds_in_.end(), fds, fds + k);
		}
	if (n != sizeof(m) || (h.msg_flags & MSG_CTRUNC))
		fail(format("the parasite sent a malformed message (%zd bytes)", n), EPROTO);
	return true;
}

void Infection::send_fds(const int *fds, unsigned n)
{
	if (crashed_)
		fail("the parasite crashed: cure the task", EFAULT);
	while (n) {
		unsigned chunk = std::min(n, COMPEL_MAX_FDS);
		send_msg({COMPEL_MSG_FDS, 0, 0, chunk}, fds, chunk);
		fds += chunk;
		n -= chunk;
	}
}

void Infection::recv_fds(int *fds, unsigned n)
{
	// The parasite sends descriptors from a command: they are in the socket
	// (or, if they came while compel waited for a reply, in fds_in_).
	while (fds_in_.size() < n) {
		compel_rpc_msg m;
		pollfd p = {sock_, POLLIN, 0};
		if (poll(&p, 1, 0) <= 0 || !receive(m))
			fail(format("the parasite sent %zu of the %u descriptors expected", fds_in_.size(), n),
			     ENOMSG);
		if (m.type != COMPEL_MSG_FDS)
			fail(format("the parasite sent message %u where descriptors were expected", m.type), EPROTO);
	}
	std::copy_n(fds_in_.begin(), n, fds);
	fds_in_.erase(fds_in_.begin(), fds_in_.begin() + n);
}

void Infection::crashed(const Stop &s, unsigned cmd)
{
	crashed_ = true;
	drain_log(); // its last words may tell why
	std::string what = format("the parasite's %s ", cmd_name(cmd).c_str());
	if (s.kind != Stop::Kind::Signal)
		fail(what + "did not finish: the thread " + s.describe(), EFAULT);
	siginfo_t si = thread_.thread.get_siginfo();
	RegSet r;
	thread_.thread.get_regs(r);
	uint64_t ip = thread_.arch->ip(r);
	std::string where;
	if (ip >= base_ && ip < base_ + blob_->exec_size) {
		uint64_t off = ip - base_;
		bool thumb = thread_.arch->in_thumb_mode(r);
		where = format("at blob offset 0x%llx: %s", (unsigned long long)off,
			       disassemble_one(compel_arch(blob_->arch), thumb, blob_->bytes + off, blob_->exec_size - off, ip)
				       .c_str());
	} else {
		where = format("at 0x%llx, outside the blob's code", (unsigned long long)ip);
	}
	std::string regs;
	for (const auto &[name, value] : thread_.arch->describe(r))
		regs += format("%s%s=0x%llx", regs.empty() ? "" : " ", name, (unsigned long long)value);
	// EFAULT for callers that look at errno; the message says the rest.
	throw Error::described(format("pid %d: ", task_.pid()) + what +
				       format("crashed with SIG%s (si_code %d, address %p) %s [%s]",
					      sigabbrev_np(s.sig) ? sigabbrev_np(s.sig) : "?", si.si_code,
					      si.si_addr, where.c_str(), regs.c_str()),
			       EFAULT);
}

void Infection::drain_log()
{
	if (!host_)
		return;
	compel_parasite_ctl *c = ctl();
	uint32_t written = __atomic_load_n(&c->log_written, __ATOMIC_ACQUIRE);
	auto emit = [&](const std::string &line) {
		if (log_handler_)
			log_handler_(task_.pid(), line.c_str(), log_data_);
		else
			fprintf(stderr, "pid %d parasite: %s\n", task_.pid(), line.c_str());
	};
	if (written - log_read_ > COMPEL_LOG_SIZE) {
		emit(format("(%u bytes of the parasite's log were overwritten)",
			    written - log_read_ - COMPEL_LOG_SIZE));
		log_read_ = written - COMPEL_LOG_SIZE;
		log_line_.clear();
	}
	for (; log_read_ != written; log_read_++) {
		char ch = c->log[log_read_ % COMPEL_LOG_SIZE];
		if (ch == '\n') {
			emit(log_line_);
			log_line_.clear();
		} else {
			log_line_ += ch;
		}
	}
}

void Infection::cure()
{
	try {
		daemon_stop();
	} catch (const Error &) {
		if (!crashed_)
			throw;
	}
	if (victim_sock_ >= 0) {
		int64_t r = task_.syscall(thread_, COMPEL_SYS_close, {uint64_t(victim_sock_)});
		if (r < 0)
			fail("cannot close the parasite's socket", int(-r));
		victim_sock_ = -1;
	}
	int64_t r = task_.syscall(thread_, COMPEL_SYS_munmap, {base_, total_});
	if (r < 0)
		fail("cannot unmap the parasite", int(-r));
	base_ = 0;
	task_.restore(thread_);
	release_host();
}

} // namespace compel::core
