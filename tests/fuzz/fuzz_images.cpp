// fuzz-images: libFuzzer target for what restore reads, read_images(), and
// for `criu show` of the same directory.
//
// An input is the image files of a dump (one process or a tree) in a small
// container that make-seeds.py makes from a real dump directory:
//
//   u32 pid        little-endian: the pid in the root's file names
//                  (core-<pid>.img, mm-, pagemap-, fdinfo-, fs-)
//   records, to the end of the input, each:
//     u8  slot     which file: kSlots[slot % 17]
//     u32 length   little-endian; a record cut short has what is left
//     bytes        the file's contents
//
// The slots by id are the files of another thread or process: their
// contents start with the u32 tid or pid (little-endian) that names the
// file, and the rest is core-<tid>.img, mm-<pid>.img and so on.
//
// A later record for a file replaces an earlier one; a file without a
// record is not there.  The sparse slots make a pages image (pages-1.img,
// as dumps of one process had it, or pages-<pid>.img) a file with holes
// only, of the size in the first 8 bytes of the rest (little-endian,
// missing bytes are zero): restore checks the pages image's size against
// the pagemap and nothing of its contents, so a seed carries 8 bytes, not
// its pages.
//
// Why the pid is in the container: the images name the pid too (pstree,
// the core's tid, the inventory's root pid), and read_images() opens the
// per-process files by the pid pstree.img names.  A seed packs a real dump
// unchanged, with its real pid, so every check can pass; the fuzzer can
// still change either pid and reach the mismatches.
//
// The files go into a fresh directory under $TMPDIR (/dev/shm if unset),
// removed after each input.  The code under test only reads: images are
// opened read-only, and the files images name (executable, mappings) are
// only stat()ed; only restore_task(), past read_images(), opens them or
// makes deleted files again.  The directory must hold nothing else when it
// is removed, which is checked.
//
// Images read_images() accepts must have what restore then takes for
// granted (check_accepted()): anything less is a check it lacks, and
// aborts like a crash.
//
// read_images() and show() must not leave a descriptor open either, whether
// they refuse or not.
//
// With FUZZ_IMAGES_PRINT_ERRORS set, each refusal is printed, to check
// that the messages say which file and what is wrong.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "ImagesDir.h"
#include "RestoreImages.h"
#include "Show.h"

namespace {

struct Slot {
	const char *name; // "core": core-<pid>.img if per_process, else core.img
	bool per_process;
	bool sparse;
	bool by_id = false; // core-<id>.img, the id first in the contents
};

const Slot kSlots[] = {
	{"inventory", false, false}, {"pstree", false, false}, {"core", true, false},  {"mm", true, false},
	{"pagemap", true, false},    {"files", false, false},  {"fdinfo", true, false}, {"fs", true, false},
	{"pages-1", false, false},   {"pages-1", false, true},  {"stats-dump", false, false},
	{"core", false, false, true},  {"mm", false, false, true},    {"pagemap", false, false, true},
	{"fdinfo", false, false, true}, {"fs", false, false, true},    {"pages", false, true, true},
};
constexpr size_t kNrSlots = sizeof(kSlots) / sizeof(kSlots[0]);
static_assert(kNrSlots == 17, "the container's description above, and make-seeds.py, know 17 slots");
constexpr uint64_t kPage = 4096;

[[noreturn]] void harness_failure(const std::string &what)
{
	fprintf(stderr, "fuzz-images: %s: %s\n", what.c_str(), strerror(errno));
	abort();
}

class Input {
public:
	Input(const uint8_t *data, size_t size) : p_(data), end_(data + size) {}

	bool empty() const { return p_ == end_; }
	// Up to n little-endian bytes, fewer if the input ends.
	uint64_t le(size_t n)
	{
		uint64_t v = 0;
		for (size_t i = 0; i < n && p_ < end_; i++)
			v |= uint64_t(*p_++) << (8 * i);
		return v;
	}
	// Up to n bytes, fewer if the input ends.
	std::string bytes(uint64_t n)
	{
		size_t len = size_t(std::min<uint64_t>(n, uint64_t(end_ - p_)));
		std::string out(reinterpret_cast<const char *>(p_), len);
		p_ += len;
		return out;
	}

private:
	const uint8_t *p_, *end_;
};

// The input's files, in a directory of their own for as long as it lives.
class ScratchDir {
public:
	explicit ScratchDir(int32_t pid) : pid_(pid)
	{
		const char *tmp = getenv("TMPDIR");
		path_ = std::string(tmp && *tmp ? tmp : "/dev/shm") + "/fuzz-images.XXXXXX";
		if (!mkdtemp(path_.data()))
			harness_failure("cannot create a directory " + path_);
		fd_ = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd_ < 0)
			harness_failure("cannot open " + path_);
	}

	~ScratchDir()
	{
		for (const Slot &s : kSlots)
			if (!s.by_id && unlinkat(fd_, name(s).c_str(), 0) != 0 && errno != ENOENT)
				harness_failure("cannot remove " + path_ + "/" + name(s));
		for (const std::string &n : id_files_)
			if (unlinkat(fd_, n.c_str(), 0) != 0 && errno != ENOENT)
				harness_failure("cannot remove " + path_ + "/" + n);
		close(fd_);
		if (rmdir(path_.c_str()) != 0)
			harness_failure(path_ + " holds files the harness did not write");
	}

	ScratchDir(const ScratchDir &) = delete;
	ScratchDir &operator=(const ScratchDir &) = delete;

	const std::string &path() const { return path_; }

	void write(const Slot &s, std::string contents)
	{
		std::string file = name(s);
		if (s.by_id) {
			Input id(reinterpret_cast<const uint8_t *>(contents.data()), contents.size());
			file = std::string(s.name) + "-" + std::to_string(int32_t(id.le(4))) + ".img";
			contents.erase(0, std::min<size_t>(4, contents.size()));
			id_files_.insert(file);
		}
		int fd = openat(fd_, file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			harness_failure("cannot create " + file);
		if (s.sparse) {
			Input size(reinterpret_cast<const uint8_t *>(contents.data()), contents.size());
			// A size the file system refuses leaves the file empty.
			if (ftruncate(fd, off_t(size.le(8) & INT64_MAX)) != 0 && errno != EFBIG && errno != EINVAL)
				harness_failure("cannot size " + file);
		} else if (::write(fd, contents.data(), contents.size()) != ssize_t(contents.size())) {
			harness_failure("cannot write " + file);
		}
		close(fd);
	}

private:
	std::string name(const Slot &s) const
	{
		return std::string(s.name) + (s.per_process ? "-" + std::to_string(pid_) : "") + ".img";
	}

	int32_t pid_;
	std::string path_;
	int fd_ = -1;
	std::set<std::string> id_files_;
};

void require(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-images: read_images() accepted images with %s\n", what);
		abort();
	}
}

bool is_reg_file(const criu::RestoreImages &img, uint32_t id)
{
	return img.files_by_id.count(id) && img.file(id).reg;
}

// What restore_task() and take_over() (criu/restore) rely on without looking.
void check_process(const criu::RestoreImages &img)
{
	require(criu::arch_core(img.core->arch), "a thread of an arch criu cannot restore");
	require(img.threads.size() + 1 == img.pstree->n_threads, "threads without their core images");
	for (auto &t : img.threads)
		require(criu::arch_core(t->arch) && t->thread && t->thread->name && !t->task,
			"a thread core restore cannot use");
	for (auto &d : img.fdinfo)
		require(img.files_by_id.count(d->id), "a descriptor of a file files.img lacks");
	// FileDescFactory and the open steps (criu/files) take the part of an
	// entry its type names, and an epoll's targets, for granted.
	std::set<uint32_t> fds;
	for (auto &d : img.fdinfo)
		fds.insert(d->fd);
	for (auto &d : img.fdinfo) {
		const FileEntry *f = &img.file(d->id);
		switch (f->type) {
		case FILE_ENTRY__TYPE_T__REG: require(f->reg, "a regular file without reg"); break;
		case FILE_ENTRY__TYPE_T__EXTERNAL: require(f->external, "an external file without external"); break;
		case FILE_ENTRY__TYPE_T__PIPE: require(f->pipe && !f->pipe->path, "a pipe without pipe, or with a path"); break;
		case FILE_ENTRY__TYPE_T__FIFO: require(f->pipe && f->pipe->path, "a FIFO without its path"); break;
		case FILE_ENTRY__TYPE_T__EVENTFD: require(f->eventfd, "an eventfd without eventfd"); break;
		case FILE_ENTRY__TYPE_T__SIGNALFD: require(f->signalfd, "a signalfd without signalfd"); break;
		case FILE_ENTRY__TYPE_T__TIMERFD: require(f->timerfd, "a timerfd without timerfd"); break;
		case FILE_ENTRY__TYPE_T__INOTIFY: require(f->inotify, "an inotify without inotify"); break;
		case FILE_ENTRY__TYPE_T__EPOLL: require(f->epoll, "an epoll without epoll"); break;
		case FILE_ENTRY__TYPE_T__MEMFD: require(f->memfd, "a memfd without memfd"); break;
		case FILE_ENTRY__TYPE_T__UNIX_SK: require(f->unix_sk, "a unix socket without unix_sk"); break;
		case FILE_ENTRY__TYPE_T__TTY: require(f->tty, "a terminal without tty"); break;
		default: require(false, "a file of a type restore does not know"); break;
		}
		for (size_t i = 0; f->epoll && i < f->epoll->n_targets; i++) {
			const EpollTargetEntry &t = *f->epoll->targets[i];
			if (t.has_file_id)
				require(img.files_by_id.count(t.file_id) && t.file_id != f->id,
					"an epoll target that is no other file of files.img");
			else
				require(fds.count(t.fd), "an epoll target the process lacks");
		}
		if (f->pipe && f->pipe->has_data)
			require(f->pipe->has_size && f->pipe->data.len <= f->pipe->size, "pipe data beyond its size");
	}
	require(is_reg_file(img, img.fs->cwd_id) && is_reg_file(img, img.fs->root_id), "no cwd or root");
	const MmEntry &mm = *img.mm;
	require(is_reg_file(img, mm.exe_file_id), "no executable");
	for (size_t i = 0; i < mm.n_vmas; i++) {
		VmaEntry__KindT k = mm.vmas[i]->kind;
		if (k == VMA_ENTRY__KIND_T__FILE_PRIVATE || k == VMA_ENTRY__KIND_T__FILE_SHARED)
			require(is_reg_file(img, mm.vmas[i]->file_id), "a mapping of a file files.img lacks");
	}
	// fill_pages() writes an entry's pages into the first vma that holds
	// its first page, as premapped; a shared file mapping would write them
	// into the file, and the special mappings are not premapped at all.
	for (auto &e : img.pagemap) {
		size_t i = 0;
		while (i < mm.n_vmas && !(e->vaddr >= mm.vmas[i]->start && e->vaddr < mm.vmas[i]->end))
			i++;
		require(i < mm.n_vmas, "pages outside every vma");
		const VmaEntry &v = *mm.vmas[i];
		require(v.end - e->vaddr >= uint64_t(e->nr_pages) * kPage, "pages past the end of their vma");
		require(v.kind == VMA_ENTRY__KIND_T__ANON || v.kind == VMA_ENTRY__KIND_T__ANON_SHARED ||
				v.kind == VMA_ENTRY__KIND_T__FILE_PRIVATE,
			"pages in a vma restore must not fill");
		require(v.inherited || (e->flag != PAGEMAP_ENTRY__FLAG_T__INHERITED && e->flag != PAGEMAP_ENTRY__FLAG_T__DISCARD),
			"the parent's pages in a vma not inherited from it");
	}
}

// What place_files() and the unix sockets' open steps rely on for the files
// in flight: each is in files.img; one with no descriptor in the tree is
// of a type made with none; a socket is made after what it carries, so it
// carries no file that carries it again.
void check_in_flight(const criu::RestoreTree &tree)
{
	std::map<uint32_t, const FileEntry *> files;
	for (auto &f : tree.files)
		files[f->id] = &*f;
	std::set<uint32_t> held;
	for (const criu::RestoreImages &img : tree.procs)
		for (auto &d : img.fdinfo)
			held.insert(d->id);
	std::map<uint32_t, std::vector<uint32_t>> carries;
	for (const auto &[id, f] : files)
		for (size_t i = 0; f->unix_sk && i < f->unix_sk->n_queue; i++)
			for (size_t j = 0; j < f->unix_sk->queue[i]->n_files; j++) {
				uint32_t other = f->unix_sk->queue[i]->files[j];
				require(files.count(other), "a file in flight that files.img lacks");
				FileEntry__TypeT t = files[other]->type;
				require(held.count(other) || (t != FILE_ENTRY__TYPE_T__EXTERNAL && t != FILE_ENTRY__TYPE_T__EPOLL &&
							      t != FILE_ENTRY__TYPE_T__TTY),
					"a file only in flight of a type restore makes with a descriptor only");
				carries[id].push_back(other);
			}
	for (const auto &[start, next] : carries) {
		std::set<uint32_t> seen;
		std::vector<uint32_t> todo = next;
		while (!todo.empty()) {
			uint32_t id = todo.back();
			todo.pop_back();
			require(id != start, "a socket that carries itself in flight");
			if (seen.insert(id).second && carries.count(id))
				todo.insert(todo.end(), carries[id].begin(), carries[id].end());
		}
	}
}

void check_accepted(const criu::RestoreTree &tree)
{
	require(!tree.procs.empty() && !tree.procs.front().zombie(), "no live root");
	for (const criu::RestoreImages &img : tree.procs)
		if (!img.zombie())
			check_process(img);
	check_in_flight(tree);
	// An inherited vma is taken from the parent's copy of the same range.
	for (const criu::RestoreImages &img : tree.procs) {
		for (size_t i = 0; !img.zombie() && i < img.mm->n_vmas; i++) {
			const VmaEntry &v = *img.mm->vmas[i];
			const criu::RestoreImages *parent = tree.find(pid_t(img.pstree->ppid));
			if (v.inherited)
				require(parent && criu::inherited_from(*parent, v), "an inherited vma the parent lacks");
		}
	}
}

// The descriptors open now (but the one listing them).
std::set<int> open_fds()
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		harness_failure("cannot list /proc/self/fd");
	std::set<int> fds;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			fds.insert(atoi(e->d_name));
	closedir(d);
	return fds;
}

void refused(const compel::Error &e)
{
	if (getenv("FUZZ_IMAGES_PRINT_ERRORS"))
		fprintf(stderr, "refused: %s\n", e.what());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in(data, size);
	ScratchDir dir(int32_t(in.le(4)));
	while (!in.empty()) {
		const Slot &slot = kSlots[in.le(1) % kNrSlots];
		uint64_t len = in.le(4);
		dir.write(slot, in.bytes(len));
	}
	std::set<int> fds = open_fds();
	try {
		criu::ImagesDir images(dir.path(), false);
		check_accepted(criu::read_images(images));
	} catch (const compel::Error &e) {
		refused(e);
	}
	try {
		criu::show(dir.path());
	} catch (const compel::Error &e) {
		refused(e);
	}
	if (open_fds() != fds) {
		fprintf(stderr, "fuzz-images: read_images() or show() left a descriptor open\n");
		abort();
	}
	return 0;
}
