// Unix sockets: bound, listening with connections waiting for accept(),
// connected in pairs (socketpair() or connect() and accept()), with what
// they have received and not read yet.  Both ends of every connection are
// in the dumped tree (in one process, or made by criu for several: see
// SharedFiles); what one end has received goes back in through the other.
#include <algorithm>
#include <climits>
#include <fcntl.h>
#include <functional>
#include <map>
#include <netinet/tcp.h>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "ScmRights.h"
#include "UnixDiag.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// A datagram (or a stream's bytes) bigger than this is not queued by any
// socket buffer a process can set without privileges.
constexpr size_t kPeekBuffer = 4 << 20;
constexpr size_t kMaxFdsPerMessage = 253; // SCM_MAX_FD

std::string printable(const std::string &name)
{
	if (name.empty())
		return "no name";
	if (name[0] == '\0')
		return "@" + name.substr(1);
	return name;
}

const proc::UnixSocket *kernel_socket(DumpContext &c, uint32_t ino)
{
	if (!c.unix_sockets)
		c.unix_sockets = proc::read_unix_sockets();
	auto it = c.unix_sockets->find(ino);
	return it == c.unix_sockets->end() ? nullptr : &it->second;
}

// One message a socket has received and not read, peeked.
struct Peeked {
	ssize_t len;
	int flags; // MSG_TRUNC, MSG_CTRUNC
	sockaddr_un from;
	socklen_t from_len;
	std::vector<UniqueFd> fds; // the descriptors in flight along it, now criu's
};

// Each message sk has received and not read, with MSG_PEEK from the peek
// offset 0 on (the process's offset is put back), until each() answers
// false.  Returns why it could not read them all, or "".
std::string peek_queue(int sk, std::vector<char> &buf, const std::function<bool(Peeked &)> &each)
{
	int old_off = -1;
	socklen_t len = sizeof(old_off);
	int zero = 0;
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old_off, &len) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return format("cannot set its peek offset (SO_PEEK_OFF: %s)", strerror(errno));
	std::string failure;
	for (;;) {
		Peeked p = {};
		std::vector<char> control;
		iovec iov = {buf.data(), buf.size()};
		msghdr m = {};
		m.msg_name = &p.from;
		m.msg_namelen = sizeof(p.from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		make_room_for_fds(m, control, kMaxFdsPerMessage);
		p.len = recvmsg(sk, &m, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (p.len < 0 && errno == EINTR)
			continue;
		if (p.len < 0 && errno != EAGAIN)
			failure = format("cannot read what it has received (%s)", strerror(errno));
		if (p.len <= 0)
			break;
		for (int fd : received_fds(m))
			p.fds.emplace_back(fd);
		p.flags = m.msg_flags;
		p.from_len = m.msg_namelen;
		if (!each(p))
			break;
	}
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof(old_off)) < 0 && failure.empty())
		failure = format("cannot put its peek offset back (%s)", strerror(errno));
	return failure;
}

bool is_unix_socket(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

// Adds to the tree's sockets those in flight in what the sockets of todo
// have received, and in what those have received, and so on: sockets no
// process has open, but the tree's all the same.
void add_flying_sockets(DumpContext &c, std::vector<UniqueFd> todo)
{
	std::vector<char> buf(kPeekBuffer);
	while (!todo.empty()) {
		UniqueFd sk = std::move(todo.back());
		todo.pop_back();
		// A socket criu cannot read now is refused when it is dumped.
		peek_queue(sk.get(), buf, [&](Peeked &p) {
			for (UniqueFd &fd : p.fds) {
				struct stat st;
				if (fstat(fd.get(), &st) == 0 && S_ISSOCK(st.st_mode) && is_unix_socket(fd.get()) &&
				    c.tree_sockets->insert(uint32_t(st.st_ino)).second)
					todo.push_back(std::move(fd));
			}
			return true;
		});
	}
}

// Whether socket ino is the tree's: open in a process of the dumped tree,
// or in flight in a socket of the tree.  Its peers and waiting
// connections are the tree's, or the outside world's.
bool in_tree(DumpContext &c, uint32_t ino)
{
	if (!c.tree_sockets) {
		c.tree_sockets.emplace();
		std::vector<UniqueFd> receiving;
		for (pid_t pid : c.pids) {
			UniqueFd pidfd(int(syscall(SYS_pidfd_open, pid, 0)));
			for (int fd : proc::list_fds(pid)) {
				char link[PATH_MAX] = {};
				uint32_t i = 0;
				if (readlink(format("/proc/%d/fd/%d", pid, fd).c_str(), link, sizeof(link) - 1) > 0)
					i = proc::socket_inode(link);
				if (!i || !c.tree_sockets->insert(i).second)
					continue;
				const proc::UnixSocket *s = kernel_socket(c, i);
				if (s && s->state != TCP_LISTEN && pidfd)
					if (UniqueFd copy(int(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0))); copy)
						receiving.push_back(std::move(copy));
			}
		}
		add_flying_sockets(c, std::move(receiving));
	}
	return c.tree_sockets->count(ino) != 0;
}

// The listener of the tree that has ino among its connections waiting for
// accept(), or nullptr.
const proc::UnixSocket *listener_of(DumpContext &c, uint32_t ino)
{
	for (const auto &[i, s] : *c.unix_sockets)
		if (s.state == TCP_LISTEN && in_tree(c, i) &&
		    std::find(s.pending_conns.begin(), s.pending_conns.end(), ino) != s.pending_conns.end())
			return &s;
	return nullptr;
}

// Consecutive runs of a stream's bytes joined; a run that carries
// descriptors is received apart, so it stays one of its own (and in flight
// entries point to it).
std::vector<UnixQueuedEntry *> join_runs(DumpedFd &d, const std::vector<UnixQueuedEntry *> &runs)
{
	std::vector<UnixQueuedEntry *> out;
	for (UnixQueuedEntry *r : runs) {
		bool carries = false;
		for (const InFlight &f : d.c.in_flight)
			carries |= f.entry == r;
		UnixQueuedEntry *last = out.empty() ? nullptr : out.back();
		bool last_carries = false;
		for (const InFlight &f : d.c.in_flight)
			last_carries |= last && f.entry == last;
		if (!last || carries || last_carries) {
			out.push_back(r);
			continue;
		}
		uint8_t *both = d.c.arena.array<uint8_t>(last->data.len + r->data.len);
		memcpy(both, last->data.data, last->data.len);
		memcpy(both + last->data.len, r->data.data, r->data.len);
		last->data = {last->data.len + r->data.len, both};
	}
	return out;
}

// What the socket has received and not read, one message at a time, left
// there for the process (peek_queue).  Descriptors in flight arrive here
// as criu's own: dump_files() describes them once it knows the process's
// own files.
void save_queue(DumpedFd &d, const proc::UnixSocket &s, UnixSkEntry &u)
{
	std::vector<char> buf(kPeekBuffer);
	std::vector<UnixQueuedEntry *> queue;
	std::string failure;
	std::string unread = peek_queue(d.copy(), buf, [&](Peeked &p) {
		if (p.flags & MSG_CTRUNC) {
			failure = format("has more than %zu descriptors in flight in one message: not supported yet",
					 kMaxFdsPerMessage);
			return false;
		}
		if (p.flags & MSG_TRUNC) {
			failure = format("has received a datagram of more than %zu bytes", kPeekBuffer);
			return false;
		}
		UnixQueuedEntry q = UNIX_QUEUED_ENTRY__INIT;
		uint8_t *data = d.c.arena.array<uint8_t>(size_t(p.len));
		memcpy(data, buf.data(), size_t(p.len));
		q.data = {size_t(p.len), data};
		size_t name_len = p.from_len > offsetof(sockaddr_un, sun_path) ? p.from_len - offsetof(sockaddr_un, sun_path) : 0;
		if (name_len && s.type == SOCK_DGRAM) {
			q.has_sender = true;
			uint8_t *name = d.c.arena.array<uint8_t>(name_len);
			memcpy(name, p.from.sun_path, name_len);
			q.sender = {name_len, name};
		}
		queue.push_back(d.c.arena.make(q));
		for (UniqueFd &fd : p.fds)
			d.c.in_flight.push_back({std::move(fd), queue.back()});
		return true;
	});
	if (failure.empty())
		failure = unread;
	if (!failure.empty())
		d.refuse("is a unix socket that " + failure);
	// A stream's bytes are one run, whatever the writes that made them,
	// but for the descriptors sent along: they stay with their bytes.
	if (s.type == SOCK_STREAM)
		queue = join_runs(d, queue);
	u.n_queue = queue.size();
	u.queue = u.n_queue ? d.c.arena.array<UnixQueuedEntry *>(u.n_queue) : nullptr;
	std::copy(queue.begin(), queue.end(), u.queue);
}

// Who could have sent each queued datagram, as restore can send it again:
// anybody without a name to a socket with one, a socket of the tree (from
// which restore sends it again), or a socket that is gone or bound to a
// path outside the tree (restore binds one to the name for the time it
// takes, the socket file there moved aside); not one outside the tree
// bound to an abstract name, which it holds.  (What a stream or seqpacket
// socket has received came from the other end of its connection.)
void check_senders(DumpedFd &d, const proc::UnixSocket &s, const proc::UnixSocket *peer, const UnixSkEntry &u)
{
	bool paired = peer && peer->peer == s.ino; // a socketpair: what it has came from its peer
	for (size_t i = 0; i < u.n_queue; i++) {
		const UnixQueuedEntry &q = *u.queue[i];
		std::string sender(q.has_sender ? reinterpret_cast<const char *>(q.sender.data) : "", q.sender.len);
		if (sender.empty()) {
			if (s.name.empty() && !paired)
				d.refuse("is a unix socket without a name with a datagram from a socket without a name queued: "
					 "restoring it is not supported yet");
			continue;
		}
		if (sender[0] != '\0' && sender[0] != '/')
			d.refuse(format("is a unix socket with a datagram queued from the relative path %s: not supported yet",
					sender.c_str()));
		if (sender[0] != '\0')
			continue;
		for (const auto &[ino, k] : *d.c.unix_sockets)
			if (k.name == sender && k.type == SOCK_DGRAM && !in_tree(d.c, ino))
				d.refuse(format("is a unix socket with a datagram queued from %s, a socket outside the dumped "
						"tree with that abstract name: not supported yet",
						printable(sender).c_str()));
	}
}

} // namespace

FileEntry *dump_unix_socket(DumpedFd &d)
{
	uint32_t ino = proc::socket_inode(d.target);
	const proc::UnixSocket *s = ino ? kernel_socket(d.c, ino) : nullptr;
	if (!s)
		d.fail(format("the kernel does not list %s among its unix sockets", d.target.c_str()), ENOENT);
	if (!s->name.empty() && s->name[0] != '\0' && s->name[0] != '/')
		d.refuse(format("is a unix socket bound to the relative path %s: not supported yet", s->name.c_str()));
	const proc::UnixSocket *peer = nullptr;
	if (s->peer) {
		if (!in_tree(d.c, s->peer))
			d.refuse(format("is a unix socket connected to socket:[%u] outside the dumped tree: not supported yet",
					s->peer));
		peer = kernel_socket(d.c, s->peer);
		if (!peer || (peer->peer != s->ino && peer->name.empty()))
			d.refuse(format("is a unix socket connected to socket:[%u], which has no name and is connected "
					"elsewhere now: not supported yet",
					s->peer));
	} else if (s->state == TCP_ESTABLISHED && s->type != SOCK_DGRAM) {
		if (const proc::UnixSocket *l = listener_of(d.c, s->ino)) {
			if (s->wqueue)
				d.refuse(format("is a unix socket waiting for %s to accept() it, with %u bytes sent: not "
						"supported yet",
						printable(l->name).c_str(), s->wqueue));
		} else if (s->shutdown != 3) {
			// A closed peer shuts both ways down: this one lives on
			// elsewhere, a listener's connection not accepted yet.
			d.refuse("is a unix socket connected to a listener outside the dumped tree: not supported yet");
		}
	}
	for (uint32_t c : s->pending_conns)
		if (!in_tree(d.c, c))
			d.refuse(format("is a unix socket listening on %s with a connection from outside the dumped tree "
					"waiting for accept(): not supported yet",
					printable(s->name).c_str()));

	UnixSkEntry u = UNIX_SK_ENTRY__INIT;
	u.ino = s->ino;
	u.type = uint32_t(s->type);
	u.state = uint32_t(s->state);
	u.flags = d.flags;
	if (!s->name.empty()) {
		u.has_name = true;
		uint8_t *name = d.c.arena.array<uint8_t>(s->name.size());
		memcpy(name, s->name.data(), s->name.size());
		u.name = {s->name.size(), name};
	}
	if (s->peer) {
		u.has_peer = true;
		u.peer = s->peer;
	}
	if (s->state == TCP_LISTEN) {
		u.has_backlog = true;
		u.backlog = s->wqueue;
		u.n_pending = s->pending_conns.size();
		u.pending = d.c.arena.array<uint32_t>(u.n_pending);
		std::copy(s->pending_conns.begin(), s->pending_conns.end(), u.pending);
	} else {
		save_queue(d, *s, u);
		if (s->type == SOCK_DGRAM)
			check_senders(d, *s, peer, u);
	}
	u.shutdown = s->shutdown;
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(d.copy(), SOL_SOCKET, SO_SNDBUF, &v, &len) < 0)
		d.fail("cannot read its SO_SNDBUF", errno);
	u.sndbuf = uint32_t(v);
	if (getsockopt(d.copy(), SOL_SOCKET, SO_RCVBUF, &v, &len) < 0)
		d.fail("cannot read its SO_RCVBUF", errno);
	u.rcvbuf = uint32_t(v);
	if (getsockopt(d.copy(), SOL_SOCKET, SO_PASSCRED, &v, &len) < 0)
		d.fail("cannot read its SO_PASSCRED", errno);
	u.passcred = v != 0;

	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__UNIX_SK;
	f.unix_sk = d.c.arena.make(u);
	return d.c.arena.make(f);
}

// Every unix socket of files.img by inode, the FileDesc of each, and the
// sockets one open step made for another (the other end of a pair, the two
// ends of a connection made through a listener), waiting for their own.
struct UnixSockets {
	std::map<uint32_t, const UnixSkEntry *> entries;
	std::map<uint32_t, const FileDesc *> descs;
	std::map<uint32_t, UniqueFd> made;
	// Datagram sockets bound but not handed out yet (waiting to connect):
	// their parked descriptors, to send from.
	std::map<uint32_t, int> bound;

	const UnixSkEntry *find(uint32_t ino) const
	{
		auto it = entries.find(ino);
		return it == entries.end() ? nullptr : it->second;
	}
};

namespace {

std::string name_of(const UnixSkEntry &u) { return u.has_name ? std::string(reinterpret_cast<const char *>(u.name.data), u.name.len) : ""; }

sockaddr_un address(const std::string &name, socklen_t &len)
{
	sockaddr_un a = {};
	a.sun_family = AF_UNIX;
	if (name.size() > sizeof(a.sun_path))
		throw Error(format("the name %s is longer than a unix socket's", printable(name).c_str()), ENAMETOOLONG);
	name.copy(a.sun_path, name.size());
	len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
	return a;
}

// A new socket of u's type, bound to u's name.  A path still there from
// the dumped socket is the same socket file: it goes, and bind() makes it
// again.
// A new socket of type, bound to name (if any).  replace: a socket file
// at that path goes first (one still there from the dumped socket is the
// same socket file, which bind() makes again).
UniqueFd bound_socket(uint32_t type, const std::string &name, bool replace)
{
	UniqueFd sk(socket(AF_UNIX, int(type) | SOCK_CLOEXEC, 0));
	if (!sk)
		throw Error("cannot make a unix socket", errno);
	if (name.empty())
		return sk;
	socklen_t len;
	sockaddr_un a = address(name, len);
	struct stat st;
	if (replace && name[0] != '\0' && lstat(name.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			throw Error(format("cannot bind to %s: it is a file, not a socket", name.c_str()), EADDRINUSE);
		if (unlink(name.c_str()) != 0)
			throw Error(format("cannot remove the old socket file %s", name.c_str()), errno);
	}
	if (bind(sk.get(), reinterpret_cast<sockaddr *>(&a), len) != 0)
		throw Error(format("cannot bind to %s", printable(name).c_str()), errno);
	return sk;
}

// A new socket of u's type, bound to u's name.
UniqueFd make_socket(const UnixSkEntry &u) { return bound_socket(u.type, name_of(u), true); }

void connect_to(int sk, const std::string &name)
{
	socklen_t len;
	sockaddr_un a = address(name, len);
	if (connect(sk, reinterpret_cast<sockaddr *>(&a), len) != 0)
		throw Error(format("cannot connect to %s", printable(name).c_str()), errno);
}

void set_int(int sk, int opt, int v, const char *what)
{
	if (setsockopt(sk, SOL_SOCKET, opt, &v, sizeof(v)) != 0)
		throw Error(format("cannot set %s to %d", what, v), errno);
}

// Room for what goes back in through sk: sending charges the sender.
void make_room(int sk, const UnixSkEntry &to)
{
	size_t bytes = 0;
	for (size_t i = 0; i < to.n_queue; i++)
		bytes += to.queue[i]->data.len + 1024;
	if (bytes)
		set_int(sk, SO_SNDBUFFORCE, int(std::min<size_t>(bytes + (1 << 16), INT_MAX / 2)), "SO_SNDBUFFORCE");
}

// Whether the files in flight in what u had received are restored, so
// that they can be sent along again.
bool flying_ready(const FdinfoEngine &engine, const UnixSkEntry &u)
{
	for (size_t i = 0; i < u.n_queue; i++)
		for (size_t j = 0; j < u.queue[i]->n_files; j++) {
			const FileDesc *f = engine.file_by_id(u.queue[i]->files[j]);
			if (!f)
				throw Error(format("socket:[%u] had file %u in flight, which is not in the images", u.ino,
						   u.queue[i]->files[j]),
					    ENOENT);
			if (!f->done)
				return false;
		}
	return true;
}

std::string sender_of(const UnixQueuedEntry &q)
{
	return q.has_sender ? std::string(reinterpret_cast<const char *>(q.sender.data), q.sender.len) : "";
}

// What `to` had received goes back in, each message sent through via(it),
// with the descriptors that came along; to_name is where datagrams go
// when the sender is not connected to it.
void put_back(const FdinfoEngine &engine, const std::function<int(const UnixQueuedEntry &)> &via,
	      const UnixSkEntry &to, const std::string &to_name)
{
	for (size_t i = 0; i < to.n_queue; i++) {
		const UnixQueuedEntry &q = *to.queue[i];
		int from = via(q);
		socklen_t len = 0;
		sockaddr_un a = {};
		if (!to_name.empty())
			a = address(to_name, len);
		std::vector<int> fds;
		for (size_t j = 0; j < q.n_files; j++)
			fds.push_back(engine.file_by_id(q.files[j])->fd);
		std::vector<char> control;
		size_t done = 0;
		do { // once for an empty datagram
			iovec iov = {const_cast<uint8_t *>(q.data.data) + done, q.data.len - done};
			msghdr m = {};
			m.msg_name = len ? &a : nullptr;
			m.msg_namelen = len;
			m.msg_iov = &iov;
			m.msg_iovlen = 1;
			if (!done)
				attach_fds(m, control, fds);
			ssize_t n = sendmsg(from, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0)
				throw Error(format("cannot put back the %zu bytes socket:[%u] had received", q.data.len, to.ino),
					    errno);
			done += size_t(n);
		} while (done < q.data.len);
	}
}

void put_back(const FdinfoEngine &engine, int via, const UnixSkEntry &to, const std::string &to_name)
{
	put_back(engine, [via](const UnixQueuedEntry &) { return via; }, to, to_name);
}

// What is set once the queues are back: the buffers, SO_PASSCRED, shutdown
// and the status flags.
void finish_socket(int sk, const UnixSkEntry &u)
{
	set_int(sk, SO_SNDBUFFORCE, int(u.sndbuf / 2), "SO_SNDBUF");
	set_int(sk, SO_RCVBUFFORCE, int(u.rcvbuf / 2), "SO_RCVBUF");
	set_int(sk, SO_PASSCRED, u.passcred, "SO_PASSCRED");
	if ((u.shutdown & 1) && shutdown(sk, SHUT_RD) != 0 && errno != ENOTCONN)
		throw Error("cannot shut down its receiving side", errno);
	if ((u.shutdown & 2) && shutdown(sk, SHUT_WR) != 0 && errno != ENOTCONN)
		throw Error("cannot shut down its sending side", errno);
	set_status_flags(sk, u.flags);
}

// The two ends of a connection, each with what it had received.
void fill_connection(const FdinfoEngine &engine, int a, const UnixSkEntry &ua, int b, const UnixSkEntry &ub)
{
	make_room(b, ua);
	make_room(a, ub);
	put_back(engine, b, ua, "");
	put_back(engine, a, ub, "");
	finish_socket(a, ua);
	finish_socket(b, ub);
}

class UnixSk : public FileDesc {
public:
	UnixSk(const FileEntry &e, std::shared_ptr<UnixSockets> all) : FileDesc(e), all_(std::move(all)) {}

	Step open(FdinfoEngine &engine) override
	{
		const UnixSkEntry &u = *entry.unix_sk;
		if (auto it = all_->made.find(u.ino); it != all_->made.end()) {
			int sk = it->second.release();
			all_->made.erase(it);
			engine.hand_out(*this, sk);
			return Step::Done;
		}
		if (u.state == TCP_LISTEN)
			return listen_with_connections(engine, u);
		const UnixSkEntry *peer = u.has_peer ? all_->find(u.peer) : nullptr;
		if (!made_ && (!flying_ready(engine, u) || (peer && !flying_ready(engine, *peer)))) {
			waiting_ = "the files in flight in what it had received";
			return Step::NotYet;
		}
		if (peer && peer->has_peer && peer->peer == u.ino) {
			if (const UnixSkEntry *l = listener_for(u, *peer)) {
				waiting_ = format("the listener socket:[%u], which connects it", l->ino);
				return Step::NotYet;
			}
			if (u.type == SOCK_DGRAM && (u.has_name || peer->has_name))
				return named_pair(engine, u, *peer);
			return pair(engine, u, peer);
		}
		if (u.type != SOCK_DGRAM && u.state == TCP_ESTABLISHED && !peer) {
			if (const UnixSkEntry *l = pending_in(u.ino)) {
				waiting_ = format("the listener socket:[%u], which connects it", l->ino);
				return Step::NotYet;
			}
			return pair(engine, u, nullptr); // its peer has gone
		}
		return datagram_or_unconnected(engine, u, peer);
	}

	std::string waits_for() const override { return waiting_; }

private:
	const UnixSkEntry *listener_for(const UnixSkEntry &a, const UnixSkEntry &b) const
	{
		for (const auto &[ino, l] : all_->entries)
			if (l->state == TCP_LISTEN && l->type == a.type && l->has_name &&
			    (name_of(*l) == name_of(a) || name_of(*l) == name_of(b)))
				return l;
		return nullptr;
	}

	const UnixSkEntry *pending_in(uint32_t ino) const
	{
		for (const auto &[i, l] : all_->entries)
			if (std::find(l->pending, l->pending + l->n_pending, ino) != l->pending + l->n_pending)
				return l;
		return nullptr;
	}

	// A socketpair; without a peer, a connection whose other end has gone:
	// that end closes once what it had sent is back.
	Step pair(FdinfoEngine &engine, const UnixSkEntry &u, const UnixSkEntry *peer)
	{
		int sv[2];
		if (socketpair(AF_UNIX, int(u.type) | SOCK_CLOEXEC, 0, sv) != 0)
			throw Error("cannot make a socket pair", errno);
		UniqueFd mine(engine.park(sv[0])), other(engine.park(sv[1]));
		if (peer) {
			fill_connection(engine, mine.get(), u, other.get(), *peer);
			all_->made[peer->ino] = std::move(other);
		} else {
			make_room(other.get(), u);
			put_back(engine, other.get(), u, "");
			other.reset();
			finish_socket(mine.get(), u);
		}
		engine.hand_out(*this, mine.release());
		return Step::Done;
	}

	// Datagram sockets with names, connected to each other: each bound
	// again, given back what it had received (what came from the other
	// through the other, so that it comes from the other's name), then
	// connected.
	Step named_pair(FdinfoEngine &engine, const UnixSkEntry &u, const UnixSkEntry &peer)
	{
		for (const UnixSkEntry *x : {&u, &peer})
			for (size_t i = 0; i < x->n_queue; i++) {
				std::string from = sender_of(*x->queue[i]);
				const UnixSkEntry *t = from.empty() ? nullptr : named(from, *x);
				if (t && t != &u && t != &peer && bound_fd(t->ino) < 0) {
					waiting_ = format("socket:[%u] to be bound, to send again what it had sent", t->ino);
					return Step::NotYet;
				}
			}
		UniqueFd mine(engine.park(make_socket(u).release())), other(engine.park(make_socket(peer).release()));
		put_back_received(engine, u, {{name_of(peer), other.get()}});
		put_back_received(engine, peer, {{name_of(u), mine.get()}});
		connect_to(mine.get(), name_of(peer));
		connect_to(other.get(), name_of(u));
		finish_socket(mine.get(), u);
		finish_socket(other.get(), peer);
		all_->made[peer.ino] = std::move(other);
		engine.hand_out(*this, mine.release());
		return Step::Done;
	}

	// The connections accepted through listener u: each end with its peer.
	std::vector<std::pair<const UnixSkEntry *, const UnixSkEntry *>> accepted_through(const UnixSkEntry &u) const
	{
		std::vector<std::pair<const UnixSkEntry *, const UnixSkEntry *>> out;
		for (const auto &[ino, a] : all_->entries) {
			const UnixSkEntry *c = a->has_peer ? all_->find(a->peer) : nullptr;
			if (a->state == TCP_ESTABLISHED && a->type == u.type && name_of(*a) == name_of(u) && c &&
			    c->has_peer && c->peer == ino)
				out.push_back({a, c});
		}
		return out;
	}

	// The listener, then the connections made through it: those accepted
	// already first (accept() takes them in order), then those waiting.
	// The listener itself may be in flight in another socket: it waits for
	// the files in flight in its own connections only.
	Step listen_with_connections(FdinfoEngine &engine, const UnixSkEntry &u)
	{
		auto conns = accepted_through(u);
		for (auto [a, c] : conns)
			if (!flying_ready(engine, *a) || !flying_ready(engine, *c)) {
				waiting_ = format("the files in flight in what socket:[%u] or socket:[%u] had received", a->ino,
						  c->ino);
				return Step::NotYet;
			}
		UniqueFd l(engine.park(make_socket(u).release()));
		if (listen(l.get(), int(u.backlog)) != 0)
			throw Error(format("cannot listen with a backlog of %u", u.backlog), errno);
		std::string name = name_of(u);
		for (auto [a, c] : conns) {
			UniqueFd client(engine.park(make_socket(*c).release()));
			connect_to(client.get(), name);
			UniqueFd accepted(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
			if (!accepted)
				throw Error(format("cannot accept the connection of socket:[%u]", c->ino), errno);
			accepted.reset(engine.park(accepted.release()));
			fill_connection(engine, accepted.get(), *a, client.get(), *c);
			all_->made[a->ino] = std::move(accepted);
			all_->made[c->ino] = std::move(client);
		}
		for (size_t i = 0; i < u.n_pending; i++) {
			const UnixSkEntry *c = all_->find(u.pending[i]);
			if (!c)
				throw Error(format("socket:[%u], waiting for accept(), is not in the images", u.pending[i]), ENOENT);
			UniqueFd client(engine.park(make_socket(*c).release()));
			connect_to(client.get(), name);
			finish_socket(client.get(), *c);
			all_->made[c->ino] = std::move(client);
		}
		finish_socket(l.get(), u);
		engine.hand_out(*this, l.release());
		return Step::Done;
	}

	// The descriptor of socket ino once it is bound (by its own open step,
	// waiting to connect, or done), or -1.
	int bound_fd(uint32_t ino) const
	{
		if (auto b = all_->bound.find(ino); b != all_->bound.end())
			return b->second;
		auto d = all_->descs.find(ino);
		return d != all_->descs.end() && d->second->done ? d->second->fd : -1;
	}

	// The datagram socket of the images bound to name, other than u.
	const UnixSkEntry *named(const std::string &name, const UnixSkEntry &u) const
	{
		for (const auto &[ino, e] : all_->entries)
			if (ino != u.ino && e->type == SOCK_DGRAM && name_of(*e) == name)
				return e;
		return nullptr;
	}

	// What u had received goes back in its order, each datagram from where
	// it came: a socket of senders (by name), a socket without a name, the
	// socket of the images bound to the sender's name, or, that one gone,
	// a socket criu binds to the name for the time it takes.  NotYet until
	// those sockets are bound.
	Step put_back_received(FdinfoEngine &engine, const UnixSkEntry &u, std::map<std::string, int> senders = {})
	{
		std::vector<UniqueFd> own;
		std::vector<std::string> paths; // bound here: their socket files go after
		std::vector<std::pair<std::string, std::string>> aside; // socket files moved out of the way, and back
		auto undo = [&] {
			bool ok = true;
			for (const std::string &path : paths)
				ok &= unlink(path.c_str()) == 0;
			for (const auto &[path, moved] : aside)
				ok &= rename(moved.c_str(), path.c_str()) == 0;
			return ok;
		};
		for (size_t i = 0; i < u.n_queue; i++) {
			std::string from = sender_of(*u.queue[i]);
			if (senders.count(from))
				continue;
			if (const UnixSkEntry *t = from.empty() ? nullptr : named(from, u)) {
				senders[from] = bound_fd(t->ino);
				if (senders[from] < 0) {
					waiting_ = format("socket:[%u] to be bound, to send again what it had sent", t->ino);
					return Step::NotYet;
				}
				continue;
			}
			// The socket file a closed sender left: moved aside meanwhile.
			struct stat st;
			bool path = !from.empty() && from[0] != '\0';
			if (path && lstat(from.c_str(), &st) == 0) {
				std::string moved = format("%s.criu-%d", from.c_str(), getpid());
				if (!S_ISSOCK(st.st_mode) || rename(from.c_str(), moved.c_str()) != 0) {
					undo();
					throw Error(format("cannot bind to %s, to send again what came from it: it is taken",
							   from.c_str()),
						    S_ISSOCK(st.st_mode) ? errno : EADDRINUSE);
				}
				aside.push_back({from, moved});
			}
			try {
				own.push_back(bound_socket(u.type, from, false));
			} catch (const Error &) {
				undo();
				throw;
			}
			senders[from] = own.back().get();
			if (path)
				paths.push_back(from);
		}
		try {
			for (auto &[from, sk] : senders)
				make_room(sk, u);
			put_back(engine, [&senders](const UnixQueuedEntry &q) { return senders[sender_of(q)]; }, u, name_of(u));
		} catch (const Error &) {
			undo();
			throw;
		}
		// The names bound here are let go, the files moved aside are back.
		if (!undo())
			throw Error(format("cannot put back the socket files of the senders of socket:[%u]", u.ino), errno);
		return Step::Done;
	}

	// Bound or not, connected one way or not: what it had received goes
	// back in before it connects (a connected datagram socket takes
	// datagrams from its peer only).
	Step datagram_or_unconnected(FdinfoEngine &engine, const UnixSkEntry &u, const UnixSkEntry *peer)
	{
		if (!made_) {
			made_.reset(engine.park(make_socket(u).release()));
			all_->bound[u.ino] = made_.get();
		}
		if (!queue_back_) {
			if (put_back_received(engine, u) == Step::NotYet)
				return Step::NotYet;
			queue_back_ = true;
		}
		if (u.has_peer) {
			if (!peer || !all_->descs.count(u.peer))
				throw Error(format("it is connected to socket:[%u], which is not in the images", u.peer), ENOENT);
			if (bound_fd(u.peer) < 0) {
				waiting_ = format("socket:[%u] to be bound, to connect to it", u.peer);
				return Step::NotYet;
			}
			connect_to(made_.get(), name_of(*peer));
		}
		finish_socket(made_.get(), u);
		all_->bound.erase(u.ino);
		engine.hand_out(*this, made_.release());
		return Step::Done;
	}

	std::shared_ptr<UnixSockets> all_;
	UniqueFd made_;
	bool queue_back_ = false;
	std::string waiting_;
};

} // namespace

uint32_t unix_socket_carrying_itself(const std::map<uint32_t, const FileEntry *> &files)
{
	std::map<uint32_t, const UnixSkEntry *> by_ino;
	for (const auto &[id, f] : files)
		if (f->unix_sk)
			by_ino[f->unix_sk->ino] = f->unix_sk;
	std::map<uint32_t, uint32_t> group; // inode: an inode of its group
	std::function<uint32_t(uint32_t)> of = [&](uint32_t ino) {
		auto it = group.try_emplace(ino, ino).first;
		return it->second == ino ? ino : it->second = of(it->second);
	};
	auto join = [&](uint32_t a, uint32_t b) { group[of(a)] = of(b); };
	for (const auto &[ino, u] : by_ino) {
		if (u->has_peer)
			join(ino, u->peer);
		for (size_t i = 0; i < u->n_pending; i++)
			join(ino, u->pending[i]);
		if (u->state != TCP_LISTEN)
			continue;
		for (const auto &[other, v] : by_ino)
			if (v->state == TCP_ESTABLISHED && v->type == u->type && name_of(*v) == name_of(*u))
				join(ino, other);
	}
	std::map<uint32_t, std::set<uint32_t>> carries; // group: the groups of the sockets in flight in it
	for (const auto &[ino, u] : by_ino)
		for (size_t i = 0; i < u->n_queue; i++)
			for (size_t j = 0; j < u->queue[i]->n_files; j++)
				if (auto f = files.find(u->queue[i]->files[j]); f != files.end() && f->second->unix_sk)
					carries[of(ino)].insert(of(f->second->unix_sk->ino));
	std::map<uint32_t, int> state; // 1: being walked, 2: done
	std::function<uint32_t(uint32_t)> walk = [&](uint32_t g) -> uint32_t {
		state[g] = 1;
		for (uint32_t next : carries[g]) {
			if (state[next] == 1)
				return next;
			if (!state[next])
				if (uint32_t found = walk(next))
					return found;
		}
		state[g] = 2;
		return 0;
	};
	for (const auto &[g, next] : carries)
		if (!state[g])
			if (uint32_t found = walk(g))
				return found;
	return 0;
}

std::unique_ptr<FileDesc> unix_socket_desc(const FileEntry &e, std::shared_ptr<UnixSockets> &all)
{
	if (!all)
		all = std::make_shared<UnixSockets>();
	auto desc = std::make_unique<UnixSk>(e, all);
	all->entries[e.unix_sk->ino] = e.unix_sk;
	all->descs[e.unix_sk->ino] = desc.get();
	return desc;
}

} // namespace criu
