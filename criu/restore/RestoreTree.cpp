#include "RestoreTree.h"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <cstring>
#include <linux/sched.h>
#include <netinet/tcp.h>
#include <new>
#include <poll.h>
#include <map>
#include <memory>
#include <set>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "Infection.h"
#include "Log.h"
#include "Proc.h"
#include "RestoreTask.h"
#include "ScmRights.h"
#include "Task.h"
#include "format.h"
#include "restorer-protocol.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// What criu asks of a process it made, which still runs criu's code.
struct TreeCommand {
	enum Op : uint32_t { Fork, Close, Setsid, Setpgid, Exit, Reap, Files, Ctty, Premap, Restore };
	uint32_t op;
	// Fork, Reap: a pid; Close: a descriptor; Setpgid: the group; Exit: the
	// wait status; Files: how many come in the next message (file ids, and
	// the files as SCM_RIGHTS); Ctty: the file id of the pty to take as
	// the session's controlling terminal
	int32_t arg;
	// Fork: the child's entry in the tree, -1 for a helper; Premap,
	// Restore: the process's own
	int32_t index;
};

// The answer: "OK" and a descriptor (Fork: criu's end of the child's
// socket), or "ERR:" and why.
struct TreeReply {
	char ok[4];
	int32_t fd;
};

pid_t clone_with_pid(pid_t pid)
{
	clone_args args = {};
	args.exit_signal = SIGCHLD;
	args.set_tid = uint64_t(uintptr_t(&pid));
	args.set_tid_size = 1;
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0) {
		if (errno == EEXIST)
			throw Error(format("pid %d was taken while criu prepared the restore", pid), EEXIST);
		throw Error(format("cannot create a process with pid %d (clone3 with set_tid)", pid), errno);
	}
	return pid_t(r);
}

constexpr int kFilesPerMessage = 200; // below SCM_MAX_FD

// What criu made once for several processes of the tree and sent to this
// one (Files), for its restore.
Received received;

// kind: 0 for files (by file id), 1 for shared memory (by shmid), 2 for
// deleted files to map (by file id).
void receive_files(int channel, int n, int kind)
{
	std::vector<uint64_t> ids(static_cast<size_t>(n));
	std::vector<char> control;
	iovec iov = {ids.data(), ids.size() * sizeof(uint64_t)};
	msghdr m = {};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	make_room_for_fds(m, control, size_t(n));
	ssize_t got = recvmsg(channel, &m, MSG_CMSG_CLOEXEC);
	std::vector<int> fds = received_fds(m);
	if (got != ssize_t(iov.iov_len) || fds.size() != size_t(n))
		throw Error(format("the %d files criu sent did not come", n), got < 0 ? errno : EPROTO);
	for (int i = 0; i < n; i++) {
		int fd = fds[size_t(i)];
		if (kind == 1) {
			received.shmem[ids[size_t(i)]] = fd;
			continue;
		}
		if (kind == 2) {
			received.mapped[uint32_t(ids[size_t(i)])] = fd;
			continue;
		}
		auto [it, fresh] = received.files.try_emplace(uint32_t(ids[size_t(i)]), fd);
		if (!fresh)
			close(std::exchange(it->second, fd));
	}
}

// A child forked from a process that has received files has copies of
// them: not its own.
void forget_received()
{
	for (auto &[id, fd] : received.files)
		close(fd);
	for (auto &[shmid, fd] : received.shmem)
		close(fd);
	for (auto &[id, fd] : received.mapped)
		close(fd);
	received = {};
}

void reply(int channel, int32_t fd)
{
	TreeReply r = {{'O', 'K', 0, 0}, fd};
	if (write(channel, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

// Ends the way a dumped zombie had ended: with its exit code, or killed by
// its signal.
[[noreturn]] void end_with(int status)
{
	if (WIFSIGNALED(status)) {
		rlimit none = {0, 0};
		setrlimit(RLIMIT_CORE, &none); // no core file of a helper
		signal(WTERMSIG(status), SIG_DFL);
		sigset_t sig;
		sigemptyset(&sig);
		sigaddset(&sig, WTERMSIG(status));
		sigprocmask(SIG_UNBLOCK, &sig, nullptr);
		raise(WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

// The SIGCHLDs of the helpers and zombies made for the tree are criu's
// doing, not the process's: it gets the pending signals it had.
void drop_sigchld()
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, nullptr);
	timespec now = {0, 0};
	while (sigtimedwait(&chld, nullptr, &now) == SIGCHLD) {
	}
}

[[noreturn]] void serve(const RestoreTree &tree, const ImagesDir &dir, int index, int channel);

void run(const RestoreTree &tree, const ImagesDir &dir, int index, int channel, const TreeCommand &cmd)
{
	switch (cmd.op) {
	case TreeCommand::Fork: {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
			throw Error("cannot make a socket pair", errno);
		pid_t child = clone_with_pid(cmd.arg);
		if (child == 0) {
			close(channel);
			close(sv[0]);
			forget_received();
			serve(tree, dir, cmd.index, sv[1]);
		}
		close(sv[1]);
		reply(channel, sv[0]);
		return;
	}
	case TreeCommand::Close:
		close(cmd.arg);
		break;
	case TreeCommand::Setsid:
		if (setsid() < 0)
			throw Error("cannot make it a session leader", errno);
		break;
	case TreeCommand::Setpgid:
		if (getpgid(0) != cmd.arg && setpgid(0, cmd.arg) != 0)
			throw Error(format("cannot put it in process group %d", cmd.arg), errno);
		break;
	case TreeCommand::Exit:
		if (index >= 0 && tree.procs[size_t(index)].pstree->zombie_comm)
			prctl(PR_SET_NAME, tree.procs[size_t(index)].pstree->zombie_comm);
		reply(channel, -1);
		end_with(cmd.arg);
	case TreeCommand::Reap:
		while (waitpid(cmd.arg, nullptr, 0) < 0)
			if (errno != EINTR)
				throw Error(format("cannot reap the helper %d", cmd.arg), errno);
		break;
	case TreeCommand::Files:
		receive_files(channel, cmd.arg, cmd.index);
		break;
	case TreeCommand::Ctty: {
		auto it = received.files.find(uint32_t(cmd.arg));
		if (it == received.files.end() || ioctl(it->second, TIOCSCTTY, 0) != 0)
			throw Error(format("cannot take file %d as the controlling terminal", cmd.arg),
				    it == received.files.end() ? ENOENT : errno);
		break;
	}
	case TreeCommand::Premap:
		premap_memory(tree.procs[size_t(cmd.index)], dir, received);
		break;
	case TreeCommand::Restore:
		drop_sigchld();
		restore_task(tree.procs[size_t(cmd.index)], dir, channel, received);
	default:
		throw Error(format("internal: unknown command %u", cmd.op), EINVAL);
	}
	reply(channel, -1);
}

// A process criu made, until it restores itself or ends: does what criu
// asks.  When criu is gone, so is it.
void serve(const RestoreTree &tree, const ImagesDir &dir, int index, int channel)
{
	if (index >= 0 && !tree.procs[size_t(index)].zombie() &&
	    tree.procs[size_t(index)].core->task->child_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1); // before a helper ends and leaves it its orphans
	for (;;) {
		TreeCommand cmd;
		if (read(channel, &cmd, sizeof(cmd)) != sizeof(cmd))
			_exit(1);
		try {
			run(tree, dir, index, channel, cmd);
		} catch (const Error &e) {
			std::string msg = std::string("ERR:") + e.what();
			if (write(channel, msg.data(), msg.size()) < 0)
				_exit(1);
		}
	}
}

const char *restorer_step(uint32_t step)
{
	static const char *const names[] = {
		"unmapping criu", "moving the special mappings", "moving the memory", "setting the mm fields",
		"signal actions", "timers", "rseq", "thread state", "prctl state", "queueing pending signals",
		"credentials", "creating a thread",
	};
	static_assert(sizeof(names) / sizeof(names[0]) == RESTORER_STEP_CLONE, "a name for every restorer step");
	return step >= 1 && step <= RESTORER_STEP_CLONE ? names[step - 1] : "unknown";
}

// What the restoring process said: its own error, the restorer's verdict,
// or nothing because it died.
restorer_status wait_for_restorer(int fd, pid_t pid)
{
	std::string msg;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		msg.append(buf, size_t(n));
	if (msg.rfind("ERR:", 0) == 0)
		throw Error::described(format("pid %d: ", pid) + msg.substr(4), EIO);
	// Threads that fail at once each write a verdict: the first is the one
	// to report.  Success is one verdict, the leader's, alone.
	restorer_status st;
	if (msg.size() >= sizeof(st) && msg.size() % sizeof(st) == 0) {
		memcpy(&st, msg.data(), sizeof(st));
		if (st.magic == RESTORER_STATUS_MAGIC && st.step == 0 && st.error == 0 && msg.size() == sizeof(st))
			return st;
		if (st.magic == RESTORER_STATUS_MAGIC && st.step == RESTORER_STEP_CLONE && st.error == -EEXIST)
			throw Error(format("pid %d: tid %d was taken while criu prepared the restore: cannot restore "
					   "the thread with its tid",
					   pid, st.tid),
				    EEXIST);
		if (st.magic == RESTORER_STATUS_MAGIC)
			throw Error(format("pid %d: thread %d: the restorer failed at step %u (%s)", pid, st.tid, st.step,
					   restorer_step(st.step)),
				    -st.error);
	}
	// Every copy of the socket's other end is closed: it has ended.
	int status = 0;
	std::string how = "it was killed or exited";
	if (waitpid(pid, &status, WNOHANG) == pid)
		how = WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : format("exit status %d", WEXITSTATUS(status));
	throw Error::described(format("pid %d: the restoring process ended before it was done (%s)", pid, how.c_str()),
			       EIO);
}

// Thread t leaves the restorer with the registers and signal mask of core.
void give_state(compel::core::Task &task, pid_t tid, const CoreEntry &core)
{
	compel::core::TracedThread &t = task.thread(tid);
	compel::core::RegSet regs;
	std::vector<uint8_t> fpu;
	try {
		arch_core(core.arch)->load(core, t.thread.get_regset(t.arch->fpu_regset(), t.arch->fpu_max_size()), regs,
					   fpu);
	} catch (const Error &e) {
		throw e.with_context(format("core-%d.img", tid));
	}
	task.replace_saved_state(t, regs, fpu, core.thread->blocked_sigs);
}

// The restorer is waiting in every thread of img's process: give each its
// dumped registers and signal mask and take the restorer out.  The process
// stays stopped until the returned task is let go.
std::unique_ptr<compel::core::Task> take_over(const RestoreImages &img, const restorer_status &st)
{
	std::unique_ptr<compel::core::Task> task = compel::core::Task::seize(img.pid, 0);
	if (task->tids().size() != img.pstree->n_threads)
		throw Error(format("pid %d: has %zu threads after the restorer, not %zu", img.pid, task->tids().size(),
				   img.pstree->n_threads),
			    EIO);
	int64_t r = task->syscall(compel_sys(COMPEL_SYS_munmap), {st.self.start, st.self.len});
	if (r < 0)
		throw Error(format("pid %d: cannot unmap the restorer", img.pid), int(-r));
	give_state(*task, img.pid, *img.core);
	for (const auto &core : img.threads)
		give_state(*task, pid_t(core->tid), *core);
	return task;
}

bool is_pid_of(const RestoreTree &tree, uint32_t pid) { return tree.find(pid_t(pid)) != nullptr; }

// The root's session and group are criu's when the root did not lead them
// (or with --shell-job): so are those of every process that shared them.
bool outside_session(const RestoreTree &tree, bool shell_job, const PstreeEntry &p)
{
	const PstreeEntry &root = *tree.procs.front().pstree;
	return p.sid == root.sid && (shell_job || root.sid != root.pid->levels[0]);
}

bool outside_group(const RestoreTree &tree, bool shell_job, const PstreeEntry &p)
{
	const PstreeEntry &root = *tree.procs.front().pstree;
	return p.pgid == root.pgid && (shell_job || root.pgid != root.pid->levels[0]);
}

} // namespace

// Files that must be made by one engine, by file id: the ends of a pipe,
// the descriptors of a memfd or of a pty, unix sockets connected to each
// other (directly, or through a listener), a socket with the files in
// flight in what it had received, and with the sockets that sent it the
// datagrams it had received.
class FileGroups {
public:
	explicit FileGroups(const std::map<uint32_t, FileEntry *> &files)
	{
		std::map<std::pair<int, uint64_t>, uint32_t> first; // a pipe, memfd or pty: its first file
		std::map<uint32_t, uint32_t> sockets;              // inode: file id
		for (const auto &[id, f] : files) {
			parent_[id] = id;
			if (f->pipe)
				join(id, first.try_emplace({0, f->pipe->pipe_id}, id).first->second);
			if (f->memfd)
				join(id, first.try_emplace({1, f->memfd->inode_id}, id).first->second);
			if (f->tty)
				join(id, first.try_emplace({2, f->tty->index}, id).first->second);
			if (f->unix_sk)
				sockets[f->unix_sk->ino] = id;
		}
		for (const auto &[id, f] : files) {
			const UnixSkEntry *u = f->unix_sk;
			if (!u)
				continue;
			if (u->has_peer && sockets.count(u->peer))
				join(id, sockets[u->peer]);
			for (size_t i = 0; i < u->n_pending; i++)
				if (sockets.count(u->pending[i]))
					join(id, sockets[u->pending[i]]);
			for (size_t i = 0; i < u->n_queue; i++) {
				for (size_t j = 0; j < u->queue[i]->n_files; j++)
					if (parent_.count(u->queue[i]->files[j]))
						join(id, u->queue[i]->files[j]);
				// A datagram goes back from the socket that sent it.
				const UnixQueuedEntry &q = *u->queue[i];
				for (const auto &[other, g] : files)
					if (q.has_sender && g->unix_sk && g->unix_sk->type == SOCK_DGRAM && g->unix_sk->has_name &&
					    g->unix_sk->name.len == q.sender.len && !memcmp(g->unix_sk->name.data, q.sender.data, q.sender.len))
						join(id, other);
			}
			// Connections accepted through a listener have its name.
			if (u->state != TCP_LISTEN || !u->has_name)
				continue;
			for (const auto &[other, g] : files)
				if (g->unix_sk && g->unix_sk->type == u->type && g->unix_sk->has_name &&
				    g->unix_sk->name.len == u->name.len && !memcmp(g->unix_sk->name.data, u->name.data, u->name.len))
					join(id, other);
		}
	}

	uint32_t of(uint32_t id)
	{
		while (parent_[id] != id)
			id = parent_[id] = parent_[parent_[id]];
		return id;
	}

private:
	void join(uint32_t a, uint32_t b) { parent_[of(a)] = of(b); }

	std::map<uint32_t, uint32_t> parent_;
};

// Files that criu makes once, before the processes, and holds: deleted
// files that several files of the tree are (mappings, descriptors opened
// apart), from their ghost images, and memfds that processes map.  Each
// process that maps one gets a descriptor of it, so that shared mappings
// of it are one memory again, and criu opens the descriptors of it from it
// (SharedFiles), so that all are the same file: a deleted file by its
// path, where it stays until then (unlink()), unless another to be made
// again has the same name.
class MadeFiles {
public:
	MadeFiles(const ImagesDir &dir, const std::vector<const RestoreImages *> &live)
	{
		const std::map<uint32_t, FileEntry *> &files = live.front()->files_by_id;
		std::map<uint32_t, int> users; // files, by ghost
		for (const auto &[id, f] : files)
			if (f->reg && f->reg->deleted)
				users[ghost_of(*f)]++;
		for (const RestoreImages *img : live)
			mapped_.merge(of_img(*img));
		std::set<uint32_t> ghosts;
		std::map<uint32_t, const MemfdEntry *> memfds; // by inode id
		for (uint32_t id : mapped_)
			if (const FileEntry &f = *files.at(id); f.reg)
				ghosts.insert(ghost_of(f));
			else
				memfds[f.memfd->inode_id] = f.memfd;
		for (const auto &[ghost, n] : users)
			if (n > 1)
				ghosts.insert(ghost);
		// Deleted files of one name are made again one after the other, each
		// deleted again at once: none may keep the name for the others.
		std::map<std::string, int> names;
		for (uint32_t ghost : ghosts)
			names[files.at(ghost)->reg->path]++;
		try {
			for (uint32_t ghost : ghosts) {
				const FileEntry &f = *files.at(ghost);
				if (names[f.reg->path] == 1) {
					Ghost again = make_ghost(dir, f);
					ghosts_[ghost] = again.fd.release();
					linked_.insert(again.path);
				} else {
					ghosts_[ghost] = open_ghost(dir, f, O_RDWR | O_CLOEXEC);
				}
			}
			for (const auto &[inode, m] : memfds)
				memfds_[inode] = make_memfd(dir, *m);
		} catch (const Error &) {
			drop();
			throw;
		}
	}
	~MadeFiles() { drop(); }
	MadeFiles(const MadeFiles &) = delete;
	MadeFiles &operator=(const MadeFiles &) = delete;

	// criu's copies: deleted files by the id of their ghost image, memfds
	// by inode id.
	const std::map<uint32_t, int> &ghosts() const { return ghosts_; }
	const std::map<uint32_t, int> &memfds() const { return memfds_; }
	// Deleted again, once criu has opened what it opens of them.
	void unlink()
	{
		for (const std::string &path : linked_)
			::unlink(path.c_str());
		linked_.clear();
	}
	// A descriptor's file (not only a mapping's) that criu opens from what
	// it made.
	bool opens(const FileEntry &f) const
	{
		return !mapped_.count(f.id) && ((f.reg && f.reg->deleted && ghosts_.count(ghost_of(f))) ||
						(f.memfd && memfds_.count(f.memfd->inode_id)));
	}
	// What img maps, by the file id of the mapping.
	std::vector<std::pair<uint64_t, int>> of(const RestoreImages &img) const
	{
		std::vector<std::pair<uint64_t, int>> out;
		for (uint32_t id : of_img(img)) {
			const FileEntry &f = img.file(id);
			out.push_back({id, f.reg ? ghosts_.at(ghost_of(f)) : memfds_.at(f.memfd->inode_id)});
		}
		return out;
	}

private:
	// The file ids of img's mappings of deleted files and memfds.
	static std::set<uint32_t> of_img(const RestoreImages &img)
	{
		std::set<uint32_t> ids;
		for (size_t i = 0; i < img.mm->n_vmas; i++) {
			const VmaEntry &v = *img.mm->vmas[i];
			if (v.kind != VMA_ENTRY__KIND_T__FILE_SHARED && v.kind != VMA_ENTRY__KIND_T__FILE_PRIVATE)
				continue;
			const FileEntry &f = img.file(v.file_id);
			if ((f.reg && f.reg->deleted) || f.memfd)
				ids.insert(v.file_id);
		}
		return ids;
	}

	void drop()
	{
		unlink();
		for (auto &[id, fd] : ghosts_)
			close(fd);
		for (auto &[id, fd] : memfds_)
			close(fd);
		ghosts_.clear(), memfds_.clear();
	}

	std::set<uint32_t> mapped_; // the file ids of mappings
	std::map<uint32_t, int> ghosts_, memfds_;
	std::set<std::string> linked_; // paths where deleted files are still
};

// Files that several processes of the tree share (one open file inherited
// over fork, or the files of a group in different processes: a shell
// pipeline's pipe, a socketpair between a parent and its child), and the
// controlling ptys of session leaders: criu opens each group once, and
// sends each process its copies before it restores itself (a session
// leader its controlling pty as soon as it leads its session, before it
// has children).
class SharedFiles {
public:
	SharedFiles(const ImagesDir &dir, const std::vector<const RestoreImages *> &live, const MadeFiles &made)
		: sfd_(highest_own_fd()), engine_(sfd_, dir)
	{
		const std::map<uint32_t, FileEntry *> &files = live.front()->files_by_id;
		FileGroups groups(files);
		std::map<uint32_t, std::set<pid_t>> users; // by group
		std::set<uint32_t> chosen;                 // groups
		for (const RestoreImages *img : live) {
			for (auto &d : img->fdinfo)
				users[groups.of(d->id)].insert(img->pid);
			if (img->pstree->has_ctty_file)
				chosen.insert(groups.of(img->pstree->ctty_file));
		}
		for (const auto &[group, pids] : users)
			if (pids.size() > 1)
				chosen.insert(group);
		for (const auto &[id, f] : files)
			if (made.opens(*f))
				chosen.insert(groups.of(id));
		choose_epolls(live, files, groups, chosen);
		for (const auto &[id, f] : files)
			if (f->type != FILE_ENTRY__TYPE_T__EXTERNAL && chosen.count(groups.of(id)))
				engine_.add(factory_.make(*f), {});
		engine_.leave_to_processes();
		engine_.use_made(made.ghosts(), made.memfds());
		engine_.run();
	}
	~SharedFiles() { engine_.close_unplaced(); }
	SharedFiles(const SharedFiles &) = delete;
	SharedFiles &operator=(const SharedFiles &) = delete;

	// criu's copy of file id.
	std::vector<std::pair<uint64_t, int>> one(uint32_t id) const
	{
		const FileDesc *f = engine_.file_by_id(id);
		if (!f)
			throw Error(format("internal: criu did not open file %u", id), EINVAL);
		return {{id, f->fd}};
	}

	// The shared files img has, by id, with criu's copies.
	std::vector<std::pair<uint64_t, int>> of(const RestoreImages &img) const
	{
		std::vector<std::pair<uint64_t, int>> out;
		std::set<uint32_t> ids;
		for (auto &d : img.fdinfo)
			if (const FileDesc *f = engine_.file_by_id(d->id); f && ids.insert(d->id).second)
				out.push_back({d->id, f->fd});
		return out;
	}

private:
	// A process adds an epoll's targets from the numbers they were added
	// with: it can when it holds each target there.  An epoll that is not
	// so (another process added a target; a target moved since) is made by
	// criu, and so, then, are its targets, which criu must hold to add.
	static void choose_epolls(const std::vector<const RestoreImages *> &live,
				  const std::map<uint32_t, FileEntry *> &files, FileGroups &groups,
				  std::set<uint32_t> &chosen)
	{
		for (const RestoreImages *img : live) {
			std::map<uint32_t, uint32_t> at; // file id at each descriptor
			for (auto &d : img->fdinfo)
				at[d->fd] = d->id;
			for (auto &d : img->fdinfo) {
				const EpollEntry *e = files.at(d->id)->epoll;
				for (size_t i = 0; e && i < e->n_targets; i++) {
					const EpollTargetEntry &t = *e->targets[i];
					if (t.has_file_id && (!at.count(t.fd) || at[t.fd] != t.file_id))
						chosen.insert(groups.of(d->id));
				}
			}
		}
		for (bool more = true; more;) {
			more = false;
			for (const auto &[id, f] : files)
				for (size_t i = 0; f->epoll && chosen.count(groups.of(id)) && i < f->epoll->n_targets; i++) {
					const EpollTargetEntry &t = *f->epoll->targets[i];
					if (!t.has_file_id)
						continue;
					if (files.at(t.file_id)->type == FILE_ENTRY__TYPE_T__EXTERNAL)
						throw Error(format("file %u: an epoll that criu makes (shared, or with a target "
								   "moved) watches file %u, shared with the outside: not "
								   "supported yet",
								   id, t.file_id),
							    ENOTSUP);
					more |= chosen.insert(groups.of(t.file_id)).second;
				}
		}
	}

	static int highest_own_fd()
	{
		int high = 2;
		for (int fd : proc::list_fds(getpid()))
			high = std::max(high, fd);
		return high;
	}

	ServiceFds sfd_;
	FdinfoEngine engine_;
	FileDescFactory factory_;
};


// Shared anonymous memory that several processes of the tree map (MAP_SHARED
// over fork): criu makes each object once, at its size, and sends each of
// them a file of it (from /proc/self/map_files) to map where it had it;
// each fills the pages it had, and all see the same memory.
class SharedMemory {
public:
	explicit SharedMemory(const std::vector<const RestoreImages *> &live)
	{
		std::map<uint64_t, std::set<pid_t>> users;
		std::map<uint64_t, uint64_t> size;
		for (const RestoreImages *img : live)
			for (size_t i = 0; i < img->mm->n_vmas; i++) {
				const VmaEntry &v = *img->mm->vmas[i];
				if (v.kind != VMA_ENTRY__KIND_T__ANON_SHARED || !v.has_shmid)
					continue;
				users[v.shmid].insert(img->pid);
				size[v.shmid] = std::max(size[v.shmid], v.pgoff + (v.end - v.start));
			}
		for (const auto &[shmid, pids] : users)
			if (pids.size() > 1)
				fds_[shmid] = make(size[shmid]);
	}
	~SharedMemory()
	{
		for (auto &[shmid, fd] : fds_)
			close(fd);
	}
	SharedMemory(const SharedMemory &) = delete;
	SharedMemory &operator=(const SharedMemory &) = delete;

	std::vector<std::pair<uint64_t, int>> of(const RestoreImages &img) const
	{
		std::vector<std::pair<uint64_t, int>> out;
		std::set<uint64_t> seen;
		for (size_t i = 0; i < img.mm->n_vmas; i++) {
			const VmaEntry &v = *img.mm->vmas[i];
			if (auto it = fds_.find(v.shmid); v.has_shmid && it != fds_.end() && seen.insert(v.shmid).second)
				out.push_back(*it);
		}
		return out;
	}

private:
	static int make(uint64_t size)
	{
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			throw Error(format("cannot make %llu bytes of shared memory", (unsigned long long)size), errno);
		auto start = uintptr_t(p);
		int fd = open(format("/proc/self/map_files/%lx-%lx", (unsigned long)start, (unsigned long)(start + size)).c_str(),
			      O_RDWR | O_CLOEXEC);
		int err = errno;
		munmap(p, size);
		if (fd < 0)
			throw Error("cannot open the shared memory criu made through /proc/self/map_files", err);
		return fd;
	}

	std::map<uint64_t, int> fds_;
};

TreeRestorer::TreeRestorer(const RestoreTree &tree, const ImagesDir &dir, bool shell_job)
	: tree_(tree), dir_(dir), shell_job_(shell_job)
{
	// What is killed ends under criu, which reaps it: nothing is left.
	prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper_);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		throw Error("cannot make criu a child subreaper", errno);
}

TreeRestorer::~TreeRestorer()
{
	progress_.reset();
	if (pages_read_)
		munmap(pages_read_, sizeof(*pages_read_));
	for (const Made &m : made_)
		close(m.channel);
	if (!released_) {
		for (const Made &m : made_)
			kill(m.pid, SIGKILL);
		while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
		}
	}
	prctl(PR_SET_CHILD_SUBREAPER, was_subreaper_);
}

std::set<pid_t> TreeRestorer::helper_pids(const RestoreTree &tree, bool shell_job)
{
	std::set<pid_t> sessions, out;
	for (const RestoreImages &p : tree.procs) {
		const PstreeEntry &e = *p.pstree;
		const RestoreImages *parent = tree.find(pid_t(e.ppid));
		if (parent && e.sid != uint32_t(p.pid) && e.sid != parent->pstree->sid && !outside_session(tree, shell_job, e) &&
		    !is_pid_of(tree, e.sid))
			sessions.insert(pid_t(e.sid));
	}
	out = sessions;
	for (const RestoreImages &p : tree.procs) {
		const PstreeEntry &e = *p.pstree;
		if (e.sid != uint32_t(p.pid) && e.pgid != uint32_t(p.pid) && !outside_group(tree, shell_job, e) &&
		    !is_pid_of(tree, e.pgid) && !sessions.count(pid_t(e.pgid)))
			out.insert(pid_t(e.pgid));
	}
	return out;
}

TreeRestorer::Made &TreeRestorer::made(pid_t pid)
{
	for (Made &m : made_)
		if (m.pid == pid)
			return m;
	throw Error(format("internal: pid %d was not made", pid), ESRCH);
}

// What pid answered: OK and a descriptor number, or its error as an
// exception.
int32_t TreeRestorer::wait_reply(pid_t pid)
{
	for (pollfd p = {made(pid).channel, POLLIN, 0}; progress_ && poll(&p, 1, 100) == 0;)
		progress_->update(pages_read_->load(std::memory_order_relaxed));
	char buf[4096];
	ssize_t n = read(made(pid).channel, buf, sizeof(buf));
	if (n >= 4 && memcmp(buf, "ERR:", 4) == 0)
		throw Error::described(format("pid %d: ", pid) + std::string(buf + 4, size_t(n - 4)), EIO);
	TreeReply r;
	if (n != sizeof(r))
		throw Error::described(format("pid %d: it ended while criu was making the tree", pid), EIO);
	memcpy(&r, buf, sizeof(r));
	return r.fd;
}

// Has pid start one step; the answer is waited for before anything else
// is asked of it.
void TreeRestorer::post(pid_t pid, uint32_t op, int32_t arg, int32_t index)
{
	settle(pid);
	TreeCommand cmd = {op, arg, index};
	// Not SIGPIPE if it has ended: the error says so.
	if (send(made(pid).channel, &cmd, sizeof(cmd), MSG_NOSIGNAL) != sizeof(cmd))
		throw Error(format("pid %d: cannot talk to it (it has ended?)", pid), errno);
	made(pid).busy = op != TreeCommand::Restore; // which answers when its restorer is done
}

// Waits for the answer to what pid was last asked, if it is still to come.
void TreeRestorer::settle(pid_t pid)
{
	if (!std::exchange(made(pid).busy, false))
		return;
	wait_reply(pid);
}

// Asks pid to do one step and waits until it is done.
void TreeRestorer::ask(pid_t pid, uint32_t op, int32_t arg, int32_t index)
{
	post(pid, op, arg, index);
	if (op == TreeCommand::Restore)
		return;
	made(pid).busy = false;
	int32_t fd = wait_reply(pid);
	if (op != TreeCommand::Fork)
		return;
	int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
	int child = pidfd < 0 ? -1 : int(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
	int err = errno;
	if (pidfd >= 0)
		close(pidfd);
	if (child < 0)
		throw Error(format("pid %d: cannot take the socket of its child %d", pid, arg), err);
	made_.push_back({arg, child, index});
	ask(pid, TreeCommand::Close, fd);
}

// All of them, in messages that SCM_RIGHTS can carry.
void TreeRestorer::give_all(pid_t pid, const std::vector<std::pair<uint64_t, int>> &files, int kind)
{
	for (size_t at = 0; at < files.size(); at += kFilesPerMessage)
		give_files(pid,
			   {files.begin() + long(at), files.begin() + long(std::min(files.size(), at + kFilesPerMessage))},
			   kind);
}

// Sends pid copies of files criu opened, with their ids.
void TreeRestorer::give_files(pid_t pid, const std::vector<std::pair<uint64_t, int>> &files, int kind)
{
	std::vector<uint64_t> ids;
	std::vector<int> fds;
	for (auto &[id, fd] : files)
		ids.push_back(id), fds.push_back(fd);
	std::vector<char> control;
	iovec iov = {ids.data(), ids.size() * sizeof(uint64_t)};
	msghdr m = {};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	attach_fds(m, control, fds);
	settle(pid);
	TreeCommand cmd = {TreeCommand::Files, int32_t(files.size()), kind};
	int channel = made(pid).channel;
	if (send(channel, &cmd, sizeof(cmd), MSG_NOSIGNAL) != sizeof(cmd) ||
	    sendmsg(channel, &m, MSG_NOSIGNAL) != ssize_t(iov.iov_len))
		throw Error(format("pid %d: cannot send it the %zu files it shares with others", pid, files.size()), errno);
	wait_reply(pid);
}

void TreeRestorer::make(pid_t creator, pid_t pid, int index)
{
	LOG_DEBUG("pid %d: made by %d%s", pid, creator, index < 0 ? " (a helper)" : "");
	if (creator) {
		ask(creator, TreeCommand::Fork, pid, index);
		return;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		throw Error("cannot make a socket pair", errno);
	pid_t child;
	try {
		child = clone_with_pid(pid);
	} catch (const Error &) {
		close(sv[0]), close(sv[1]);
		throw;
	}
	if (child == 0) {
		close(sv[0]);
		// If criu dies, so does what it was restoring: nothing half-restored stays.
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		serve(tree_, dir_, index, sv[1]);
	}
	close(sv[1]);
	made_.push_back({pid, sv[0], index});
}

// Parents before children: each made by its parent, or by the helper of
// its session when that session's leader is gone.
// p leads its session again, with its controlling terminal: before it
// has children, which take the terminal from it.
void TreeRestorer::lead_session(const RestoreImages &p)
{
	ask(p.pid, TreeCommand::Setsid);
	if (!p.pstree->has_ctty_file)
		return;
	give_files(p.pid, shared_->one(p.pstree->ctty_file), 0);
	ask(p.pid, TreeCommand::Ctty, int32_t(p.pstree->ctty_file));
}

// A live process, once made, maps its memory before it makes children,
// which inherit it; meanwhile criu goes on with other processes.
void TreeRestorer::premap(const RestoreImages &p)
{
	if (p.zombie())
		return;
	give_all(p.pid, shmem_->of(p), 1);
	give_all(p.pid, made_files_->of(p), 2);
	post(p.pid, TreeCommand::Premap, 0, int32_t(&p - tree_.procs.data()));
}

void TreeRestorer::make_processes()
{
	const RestoreImages &root = tree_.procs.front();
	make(0, root.pid, 0);
	premap(root);
	if (!shell_job_ && root.pstree->sid == uint32_t(root.pid))
		lead_session(root);
	for (size_t i = 1; i < tree_.procs.size(); i++) {
		const RestoreImages &p = tree_.procs[i];
		const PstreeEntry &e = *p.pstree;
		pid_t parent = pid_t(e.ppid), creator = parent;
		const RestoreImages &q = *tree_.find(parent);
		if (e.sid != uint32_t(p.pid) && e.sid != q.pstree->sid) {
			if (outside_session(tree_, shell_job_, e) || is_pid_of(tree_, e.sid))
				throw Error(format("pid %d: it is in session %u, its parent %d in session %u: restoring a "
						   "process that left the subtree of its session's leader is not supported yet",
						   p.pid, e.sid, parent, q.pstree->sid),
					    ENOTSUP);
			if (!q.core->task->child_subreaper)
				throw Error(format("pid %d: its session %u has no leader, and its parent %d is not a child "
						   "subreaper: criu cannot make it %d's child in that session",
						   p.pid, e.sid, parent, parent),
					    ENOTSUP);
			pid_t helper = pid_t(e.sid);
			if (!helper_of_.count(helper)) {
				make(parent, helper, -1);
				ask(helper, TreeCommand::Setsid);
				helper_of_[helper] = parent;
			} else if (helper_of_[helper] != parent) {
				throw Error(format("pid %d: its session %u, whose leader is gone, has orphans of pid %d and of "
						   "pid %d: restoring it is not supported yet",
						   p.pid, e.sid, helper_of_[helper], parent),
					    ENOTSUP);
			}
			creator = helper;
		}
		make(creator, p.pid, int(i));
		premap(p);
		if (e.sid == uint32_t(p.pid))
			lead_session(p);
	}
}

// Group leaders first, then the members; a group with no leader gets a
// helper, made by its first member.
void TreeRestorer::join_groups()
{
	for (const RestoreImages &p : tree_.procs) {
		const PstreeEntry &e = *p.pstree;
		if (e.pgid == uint32_t(p.pid) && e.sid != uint32_t(p.pid) && !outside_group(tree_, shell_job_, e))
			ask(p.pid, TreeCommand::Setpgid, p.pid);
	}
	for (const RestoreImages &p : tree_.procs) {
		const PstreeEntry &e = *p.pstree;
		pid_t group = pid_t(e.pgid);
		if (group == p.pid || e.sid == uint32_t(p.pid) || outside_group(tree_, shell_job_, e))
			continue;
		if (!is_pid_of(tree_, e.pgid) && !helper_of_.count(group)) {
			make(p.pid, group, -1);
			ask(group, TreeCommand::Setpgid, group);
			helper_of_[group] = p.pid;
		}
		ask(p.pid, TreeCommand::Setpgid, group);
	}
}

// Helpers first: the process that made one, which reaps it, may be a zombie
// to be.
void TreeRestorer::end_helpers_and_zombies()
{
	for (const auto &[helper, creator] : helper_of_) {
		ask(helper, TreeCommand::Exit, 0);
		ask(creator, TreeCommand::Reap, helper);
	}
	for (const RestoreImages &p : tree_.procs)
		if (p.zombie())
			ask(p.pid, TreeCommand::Exit, int32_t(p.pstree->zombie_status));
	for (const RestoreImages &p : tree_.procs)
		for (int tries = 0; p.zombie() && proc::read_stat(p.pid).state != 'Z'; tries++) {
			if (tries == 1000)
				throw Error(format("pid %d: it does not end, to be the zombie it was", p.pid), ETIMEDOUT);
			usleep(1000);
		}
}

// A helper's end gives its children to the nearest child subreaper: the
// parent they had, if it is one.
void TreeRestorer::check_parents() const
{
	for (size_t i = 1; i < tree_.procs.size(); i++) {
		const RestoreImages &p = tree_.procs[i];
		pid_t ppid = proc::read_stat(p.pid).ppid;
		if (ppid != pid_t(p.pstree->ppid))
			throw Error(format("pid %d: its parent is %d after its session's helper ended, not %u", p.pid, ppid,
					   p.pstree->ppid),
				    EIO);
	}
}

void TreeRestorer::create()
{
	std::vector<const RestoreImages *> live;
	for (const RestoreImages &p : tree_.procs)
		if (!p.zombie())
			live.push_back(&p);
	made_files_ = std::make_unique<MadeFiles>(dir_, live);
	shared_ = std::make_unique<SharedFiles>(dir_, live, *made_files_);
	made_files_->unlink();
	shmem_ = std::make_unique<SharedMemory>(live);
	if (Progress::wanted(tree_.data_pages * 4096)) {
		void *counter = mmap(nullptr, sizeof(*pages_read_), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (counter != MAP_FAILED) {
			pages_read_ = new (counter) std::atomic<uint64_t>(0);
			count_pages_in(pages_read_);
			progress_.emplace("restoring memory", tree_.data_pages * 4096);
		}
	}
	make_processes();
	for (const RestoreImages &p : tree_.procs)
		settle(p.pid);
	progress_.reset();
	join_groups();
	end_helpers_and_zombies();
	check_parents();
	LOG_DEBUG("%zu processes made, %zu helpers gone", tree_.procs.size(), helper_of_.size());
}

void TreeRestorer::restore(bool leave_stopped)
{
	try {
		restore_all(leave_stopped);
	} catch (const Error &) {
		// Before the seized ones are let go, with their restored registers.
		for (const Made &m : made_)
			kill(m.pid, SIGKILL);
		throw;
	}
}

void TreeRestorer::restore_all(bool leave_stopped)
{
	std::vector<std::pair<const RestoreImages *, Made *>> live;
	for (Made &m : made_)
		if (m.index >= 0 && !tree_.procs[size_t(m.index)].zombie())
			live.push_back({&tree_.procs[size_t(m.index)], &m});
	for (auto &[img, m] : live)
		give_all(m->pid, shared_->of(*img), 0);
	for (auto &[img, m] : live)
		ask(m->pid, TreeCommand::Restore, 0, m->index);
	std::vector<restorer_status> done;
	for (auto &[img, m] : live) {
		done.push_back(wait_for_restorer(m->channel, m->pid));
		LOG_DEBUG("pid %d: the restorer is done", m->pid);
	}
	// No process runs its own code before every one is restored.
	std::vector<std::unique_ptr<compel::core::Task>> tasks;
	for (size_t i = 0; i < live.size(); i++)
		tasks.push_back(take_over(*live[i].first, done[i]));
	for (auto &task : tasks)
		if (leave_stopped && kill(task->pid(), SIGSTOP) != 0)
			throw Error(format("pid %d: cannot stop it", task->pid()), errno);
	released_ = true;
	for (auto &task : tasks)
		task->detach();
}

} // namespace criu
