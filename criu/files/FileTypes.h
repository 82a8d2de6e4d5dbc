#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>

#include "FileDesc.h"
#include "ImagesDir.h"
#include "Proc.h"
#include "UniqueFd.h"

// The file types besides regular files, one source file each: how each is
// dumped into its files.img entry and restored by an open step.
namespace criu {

struct DumpContext;
struct DumpShared;

// One descriptor of the dumped process, as dump_files() found it.
struct DumpedFd {
	DumpedFd(DumpContext &ctx, int n, const std::string &proc_link, const proc::FdInfo &fdinfo);
	// A descriptor in flight in a unix socket of the process, which criu
	// received with MSG_PEEK as its own local_fd.
	static DumpedFd in_flight(DumpContext &ctx, int local_fd);
	// A file the process maps, which criu opened as its own local_fd
	// through /proc/PID/map_files; what: the mapping, for messages.
	static DumpedFd mapped(DumpContext &ctx, int local_fd, const std::string &what);

	DumpContext &c;
	int fd;
	std::string link;   // /proc/PID/fd/N
	std::string target; // what the link says
	struct stat st = {};
	proc::FdInfo info;
	uint32_t flags; // open(2) flags but O_CLOEXEC
	bool flying = false; // fd is criu's own, in flight in a socket of the process
	bool local = false;  // fd is criu's own (in flight, or a mapping's file)
	std::string called;  // what messages call it, if not "fd N"

	// A copy of the descriptor in criu (pidfd_getfd), for what only the
	// open file itself tells (fcntl, ioctl).
	int copy();
	// A small id of the inode, the same for every file of it; first is
	// true for its first file.
	uint32_t inode_id(bool &first);
	std::string name() const;
	[[noreturn]] void fail(const std::string &what, int err) const;
	[[noreturn]] void refuse(const std::string &what) const;

private:
	UniqueFd copy_;
};

// Each returns the file's entry, or fails naming the descriptor.
FileEntry *dump_pipe(DumpedFd &d); // anonymous pipes and FIFOs
FileEntry *dump_eventfd(DumpedFd &d);
FileEntry *dump_signalfd(DumpedFd &d);
FileEntry *dump_timerfd(DumpedFd &d);
FileEntry *dump_inotify(DumpedFd &d);
FileEntry *dump_epoll(DumpedFd &d);
// Once every descriptor of the tree is dumped: the file_id of each epoll
// target dump_epoll() found.
void name_epoll_targets(DumpShared &s);
FileEntry *dump_memfd(DumpedFd &d);
FileEntry *dump_unix_socket(DumpedFd &d);
FileEntry *dump_netlink_socket(DumpedFd &d);
FileEntry *dump_tty(DumpedFd &d); // a pty whose master the process holds
// The entry of a descriptor in flight (DumpFiles.cpp): the types that
// need nothing else of the process.
FileEntry *describe_in_flight(DumpContext &c, int local_fd);
// /dev/ptmx or /dev/pts/<n>.
bool is_pty(const std::string &path);
// A pty whose master a process of the tree holds (the master itself, or a
// slave of it): the tree's, not a terminal of the outside.
bool is_tree_pty(DumpedFd &d);
// A deleted file, made again from its ghost image for as long as it takes
// to open it with flags: a descriptor of it, which is all that is left.
int open_ghost(const ImagesDir &dir, const FileEntry &f, uint32_t flags);
// The same, left where it was made (the caller unlinks it): at its path,
// or beside it (<path>.criu-ghost-<id>) if another file has that name now.
struct Ghost {
	UniqueFd fd; // O_RDWR
	std::string path;
};
Ghost make_ghost(const ImagesDir &dir, const FileEntry &f);
// A memfd made again from memfd-<inode_id>.img, with its mode and seals:
// a descriptor O_RDWR of it.
int make_memfd(const ImagesDir &dir, const MemfdEntry &m);
// Whether mappings of a and b (regular files or memfds, of one dump) map
// the same file.
inline bool same_mapped_file(const FileEntry &a, const FileEntry &b)
{
	if (a.reg && b.reg)
		return strcmp(a.reg->path, b.reg->path) == 0;
	return a.memfd && b.memfd && a.memfd->inode_id == b.memfd->inode_id;
}
// The file id that names deleted file f's ghost image (several files of
// one inode share one).
inline uint32_t ghost_of(const FileEntry &f) { return f.reg->has_ghost ? f.reg->ghost : f.id; }
// Who gets SIGIO for the file, if anyone; the entry of any file type.
FownEntry *dump_fown(DumpedFd &d);
// The locks held through the file (FileLocks.cpp), of any file type.
void dump_locks(DumpedFd &d, FileEntry &f);
// Takes f's locks again through fd, the restored file; never waits.
void take_locks(const FileEntry &f, int fd);
// A memfd (by its name and F_GET_SEALS) rather than a file on a disk.
bool is_memfd(DumpedFd &d);

// Restore makes a unix socket with its peer (a listener with the
// connections through it) once the files in flight in what they had
// received are made: a socket of files (by id) that carries, in flight in
// its queue or further down, a socket made with it again, or 0.
uint32_t unix_socket_carrying_itself(const std::map<uint32_t, const FileEntry *> &files);

struct PipeInode;
struct MemfdInode;
struct UnixSockets;
struct PtyInode;

// The restore side: the FileDesc of each entry of files.img.  The files of
// one pipe, or of one memfd, share what is restored once for all of them.
class FileDescFactory {
public:
	std::unique_ptr<FileDesc> make(const FileEntry &e);

private:
	std::map<uint32_t, std::shared_ptr<PipeInode>> pipes_;
	std::map<uint32_t, std::shared_ptr<MemfdInode>> memfds_;
	std::shared_ptr<UnixSockets> unix_sockets_;
	std::map<uint32_t, std::shared_ptr<PtyInode>> ptys_;
};

std::unique_ptr<FileDesc> reg_desc(const FileEntry &e);
std::unique_ptr<FileDesc> external_desc(const FileEntry &e);
std::unique_ptr<FileDesc> pipe_desc(const FileEntry &e, std::shared_ptr<PipeInode> &inode);
std::unique_ptr<FileDesc> eventfd_desc(const FileEntry &e);
std::unique_ptr<FileDesc> signalfd_desc(const FileEntry &e);
std::unique_ptr<FileDesc> timerfd_desc(const FileEntry &e);
std::unique_ptr<FileDesc> inotify_desc(const FileEntry &e);
std::unique_ptr<FileDesc> epoll_desc(const FileEntry &e);
std::unique_ptr<FileDesc> memfd_desc(const FileEntry &e, std::shared_ptr<MemfdInode> &inode);
std::unique_ptr<FileDesc> unix_socket_desc(const FileEntry &e, std::shared_ptr<UnixSockets> &all);
std::unique_ptr<FileDesc> netlink_socket_desc(const FileEntry &e);
// The SOL_NETLINK options a netlink socket's entry keeps: bit n, option n.
uint32_t netlink_option_bits();
std::unique_ptr<FileDesc> tty_desc(const FileEntry &e, std::shared_ptr<PtyInode> &inode);

// Sets the flags F_SETFL can (O_NONBLOCK, O_APPEND, O_NOATIME) but
// O_ASYNC, which the engine sets once the file is in its place.
void set_status_flags(int fd, uint32_t flags);
// The open(2) flags of the file, whatever its type.
uint32_t status_flags(const FileEntry &e);
// A new open file of what fd refers to, through /proc/self/fd, as open(2)
// with flags would make it.
int reopen(int fd, uint32_t flags);

} // namespace criu
