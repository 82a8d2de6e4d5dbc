#include "RestoreTask.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <set>
#include <utility>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "Log.h"
#include "format.h"
#include "restorer-protocol.h"
#include "restorer.h"

extern "C" {
// glibc's rseq registration of this thread (glibc 2.35+).
extern const ptrdiff_t __rseq_offset;
extern const unsigned int __rseq_size;
}

namespace criu {

using compel::Error;
using compel::format;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kRestorerStack = 64 << 10;
constexpr uint64_t kFillPiece = 64 << 20;
// Where free address ranges are looked for: above the lower 4 GiB (which
// 32-bit compatible code prefers) and below the top of user space.
constexpr uint64_t kSearchLow = 1ull << 32;
constexpr uint64_t kSearchHigh = 0x7f0000000000ull;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

struct Range {
	uint64_t start, end;
};

// The start of a mapping's name ("[vdso]"), kept without allocating.
using ShortName = std::array<char, 16>;

bool is_name(const ShortName &n, const char *s) { return strncmp(n.data(), s, n.size()) == 0; }

std::vector<int> own_fds()
{
	std::vector<int> fds;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		throw Error("cannot list /proc/self/fd", errno);
	int dfd = dirfd(d);
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dfd)
			fds.push_back(atoi(e->d_name));
	closedir(d);
	return fds;
}

// Every descriptor of the process, by the fdinfo engine.  criu's own
// descriptors are not the process's: only the service descriptors and the
// external ones (stdin, stdout, stderr shared with the outside) stay.
// A file criu opened for several processes and sent here: in place as
// soon as it is handed out.
class ReceivedFile : public FileDesc {
public:
	ReceivedFile(const FileEntry &e, int sent) : FileDesc(e), received_(sent) {}

	Step open(FdinfoEngine &engine) override
	{
		engine.hand_out(*this, std::exchange(received_, -1));
		return Step::Done;
	}

private:
	int received_;
};

void place_files(const RestoreImages &img, const ImagesDir &dir, const ServiceFds &sfd, const Received &received)
{
	std::map<uint32_t, std::vector<const FdinfoEntry *>> fles; // by file id
	for (auto &d : img.fdinfo)
		fles[d->id].push_back(&*d);
	for (int fd : own_fds()) {
		bool keep = sfd.owns(fd);
		for (auto &[id, r] : received.files)
			keep |= r == fd;
		for (auto &d : img.fdinfo)
			keep |= int(d->fd) == fd && img.file(d->id).type == FILE_ENTRY__TYPE_T__EXTERNAL;
		if (!keep)
			close(fd);
	}
	FdinfoEngine engine(sfd, dir);
	FileDescFactory factory;
	// Files only in flight in the task's unix sockets, and in the sockets
	// in flight in them.
	std::set<uint32_t> flying;
	std::vector<uint32_t> carriers;
	for (auto &[id, list] : fles) {
		std::sort(list.begin(), list.end(), [](auto *a, auto *b) { return a->fd < b->fd; });
		const FileEntry &f = img.file(id);
		auto r = received.files.find(id);
		bool made_here = r == received.files.end(); // else criu made it, with what it had in flight
		engine.add(made_here ? factory.make(f) : std::make_unique<ReceivedFile>(f, r->second), list);
		if (made_here)
			carriers.push_back(id);
	}
	while (!carriers.empty()) {
		const UnixSkEntry *u = img.file(carriers.back()).unix_sk;
		carriers.pop_back();
		for (size_t i = 0; u && i < u->n_queue; i++)
			for (size_t j = 0; j < u->queue[i]->n_files; j++) {
				uint32_t id = u->queue[i]->files[j];
				if (!fles.count(id) && flying.insert(id).second) {
					engine.add(factory.make(img.file(id)), {});
					carriers.push_back(id);
				}
			}
	}
	// What criu sent for another purpose only (a controlling terminal the
	// process does not hold open) is not its.
	for (auto &[id, fd] : received.files)
		if (!fles.count(id))
			close(fd);
	engine.run();
	engine.close_unplaced();
}

void restore_fs_and_limits(const RestoreImages &img)
{
	const char *cwd = img.file(img.fs->cwd_id).reg->path;
	const char *root = img.file(img.fs->root_id).reg->path;
	if (strcmp(root, "/") != 0 && chroot(root) != 0)
		throw Error(format("cannot change the root to %s", root), errno);
	if (chdir(cwd) != 0)
		throw Error(format("cannot change the working directory to %s", cwd), errno);
	const TaskCoreEntry &t = *img.core->task;
	for (size_t i = 0; i < t.n_rlimits; i++) {
		rlimit rl = {t.rlimits[i]->cur, t.rlimits[i]->max};
		if (prlimit(0, __rlimit_resource(t.rlimits[i]->resource), &rl, nullptr) != 0)
			throw Error(format("cannot set resource limit %u to %llu/%llu", t.rlimits[i]->resource,
					   (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max),
				    errno);
	}
}

// This task's memory map, read without allocating: what it reads must be
// what the restorer unmaps, heap included.
size_t read_own_maps(std::vector<char> &buf, std::vector<Range> &out, std::vector<ShortName> &names)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw Error("cannot open /proc/self/maps", errno);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf.data() + len, buf.size() - len - 1)) > 0)
		len += size_t(n);
	close(fd);
	if (n < 0 || len >= buf.size() - 1)
		throw Error("cannot read /proc/self/maps", n < 0 ? errno : E2BIG);
	buf[len] = 0;
	size_t count = 0;
	for (char *line = buf.data(); *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		unsigned long long s, e;
		int name = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &s, &e, &name) >= 2) {
			if (count < out.size())
				out[count] = {s, e};
			if (count < names.size()) {
				names[count] = {};
				if (name)
					strncpy(names[count].data(), line + name, names[count].size() - 1);
			}
			count++;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return count;
}

// Address ranges to keep apart from each other: this task's and the
// restored process's; finds free space among them.
class AddressPlan {
public:
	void take(uint64_t start, uint64_t end) { taken_.push_back({start, end}); }

	uint64_t find(uint64_t len)
	{
		std::sort(taken_.begin(), taken_.end(), [](auto &a, auto &b) { return a.start < b.start; });
		uint64_t at = kSearchLow;
		for (const Range &r : taken_) {
			if (r.end <= at)
				continue;
			if (r.start >= at + len)
				break;
			at = page_up(r.end);
		}
		if (at + len > kSearchHigh)
			throw Error(format("no free %llu bytes of address space for the restore", (unsigned long long)len),
				    ENOMEM);
		take(at, at + len);
		return at;
	}

private:
	std::vector<Range> taken_;
};

// This task's memory map, read without allocating (see read_own_maps()).
struct OwnMaps {
	std::vector<char> buf = std::vector<char>(1 << 20);
	std::vector<Range> ranges = std::vector<Range>(4096);
	std::vector<ShortName> names = std::vector<ShortName>(4096);
	size_t count = 0;
};

// A plan that keeps this task's memory (read into own) and the process's
// vmas apart.
AddressPlan plan_apart(const MmEntry &mm, OwnMaps &own)
{
	own.count = read_own_maps(own.buf, own.ranges, own.names);
	AddressPlan plan;
	for (size_t i = 0; i < std::min(own.count, own.ranges.size()); i++)
		plan.take(own.ranges[i].start, own.ranges[i].end);
	for (size_t i = 0; i < mm.n_vmas; i++)
		plan.take(mm.vmas[i]->start, mm.vmas[i]->end);
	return plan;
}

void reserve(uint64_t at, uint64_t len, const char *what)
{
	void *p = mmap(reinterpret_cast<void *>(at), len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
	if (p != reinterpret_cast<void *>(at))
		throw Error(format("cannot reserve %llu bytes at 0x%llx for %s", (unsigned long long)len,
				   (unsigned long long)at, what),
			    p == MAP_FAILED ? errno : EEXIST);
}

bool is_special(VmaEntry__KindT k)
{
	return k == VMA_ENTRY__KIND_T__VDSO || k == VMA_ENTRY__KIND_T__VVAR || k == VMA_ENTRY__KIND_T__VVAR_VCLOCK ||
	       k == VMA_ENTRY__KIND_T__VSYSCALL;
}

const char *special_name(VmaEntry__KindT k)
{
	return k == VMA_ENTRY__KIND_T__VDSO ? "[vdso]" : k == VMA_ENTRY__KIND_T__VVAR ? "[vvar]" : "[vvar_vclock]";
}

// Maps one VMA of the process at `at`, in premapped form: writable to be
// filled; the restorer moves it and sets its protection.
void premap(const RestoreImages &img, const VmaEntry &v, uint64_t at, const Received &received)
{
	const std::map<uint64_t, int> &shmem = received.shmem;
	uint64_t len = v.end - v.start;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_FIXED, fd = -1, given_fd = -1; // given: criu's, not closed here
	switch (v.kind) {
	case VMA_ENTRY__KIND_T__ANON:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS | int(v.flags & MAP_GROWSDOWN);
		break;
	case VMA_ENTRY__KIND_T__ANON_SHARED:
		// Memory other processes map too is the object criu made for all.
		if (auto it = shmem.find(v.shmid); it != shmem.end())
			given_fd = it->second, flags |= MAP_SHARED;
		else
			flags |= MAP_SHARED | MAP_ANONYMOUS;
		break;
	case VMA_ENTRY__KIND_T__FILE_PRIVATE:
	case VMA_ENTRY__KIND_T__FILE_SHARED: {
		bool shared = v.kind == VMA_ENTRY__KIND_T__FILE_SHARED;
		const FileEntry &f = img.file(v.file_id);
		const char *path = f.reg ? f.reg->path : f.memfd->name;
		// A deleted file or a memfd is the one criu made for all that map it.
		if (auto made = received.mapped.find(v.file_id); made != received.mapped.end())
			given_fd = made->second;
		else if (f.reg)
			fd = open(path, (shared && (v.prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		else
			throw Error(format("internal: criu did not make the memfd %s mapped at 0x%llx", path,
					   (unsigned long long)v.start),
				    EINVAL);
		if (fd < 0 && given_fd < 0)
			throw Error(format("cannot open %s to map it at 0x%llx", path, (unsigned long long)v.start), errno);
		flags |= shared ? MAP_SHARED : MAP_PRIVATE;
		if (shared)
			prot = int(v.prot);
		break;
	}
	default:
		throw Error(format("vma at 0x%llx has kind %d, which criu cannot premap", (unsigned long long)v.start,
				   v.kind),
			    EINVAL);
	}
	// Without its MAP_NORESERVE, a sparse reservation (an ASan shadow) would
	// not fit the commit limit.
	flags |= int(v.flags & MAP_NORESERVE);
	void *p = mmap(reinterpret_cast<void *>(at), len, prot, flags, given_fd >= 0 ? given_fd : fd, off_t(v.pgoff));
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		throw Error(format("cannot map [0x%llx, 0x%llx) (%s)", (unsigned long long)v.start,
				   (unsigned long long)v.end, v.name ? v.name : "anonymous"),
			    err);
}

// This process's memory, premapped and filled: where each vma waits until
// the restorer moves it in place.  The children it forks after that
// inherit it, and take from it the vmas they share with it.
struct Premapped {
	const RestoreImages *img = nullptr;
	uint64_t at = 0, len = 0;
	std::vector<uint64_t> slot; // by vma, 0 for the special mappings
};
Premapped premapped;

// v is the parent's vma of the same range, inherited over fork with the
// pages the two share: it moves from where the parent premapped it to at.
void take_inherited(const Premapped &parent, const VmaEntry &v, uint64_t at)
{
	const VmaEntry *theirs = parent.img ? inherited_from(*parent.img, v) : nullptr;
	if (!theirs)
		throw Error(format("internal: the parent's copy of the vma at 0x%llx is not here", (unsigned long long)v.start),
			    ENOENT);
	size_t j = 0;
	while (parent.img->mm->vmas[j] != theirs)
		j++;
	uint64_t len = v.end - v.start;
	void *p = mremap(reinterpret_cast<void *>(parent.slot[j]), len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			 reinterpret_cast<void *>(at));
	if (p == MAP_FAILED)
		throw Error(format("cannot take over the parent's copy of [0x%llx, 0x%llx)", (unsigned long long)v.start,
				   (unsigned long long)v.end),
			    errno);
}

std::atomic<uint64_t> *pages_read_counter;

void fill_pages(const RestoreImages &img, const ImagesDir &dir, const std::vector<uint64_t> &slot_of_vma)
{
	int fd = openat(dir.fd(), img.pages_file.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw Error("cannot open " + dir.path() + "/" + img.pages_file, errno);
	uint64_t off = 0;
	const MmEntry &mm = *img.mm;
	size_t i = 0; // entries come in address order
	for (auto &e : img.pagemap) {
		while (!(e->vaddr >= mm.vmas[i]->start && e->vaddr < mm.vmas[i]->end))
			i++;
		auto *dst = reinterpret_cast<uint8_t *>(slot_of_vma[i] + (e->vaddr - mm.vmas[i]->start));
		uint64_t len = uint64_t(e->nr_pages) * kPage;
		if (e->flag == PAGEMAP_ENTRY__FLAG_T__INHERITED)
			continue; // inherited already
		if (e->flag == PAGEMAP_ENTRY__FLAG_T__DISCARD) {
			if (madvise(dst, len, MADV_DONTNEED) != 0) {
				int err = errno;
				close(fd);
				throw Error(format("cannot drop the parent's pages at 0x%llx", (unsigned long long)e->vaddr), err);
			}
			continue;
		}
		if (e->flag == PAGEMAP_ENTRY__FLAG_T__ZERO) {
			memset(dst, 0, len);
			continue;
		}
		for (uint64_t done = 0; done < len;) {
			// In pieces, for criu to show how far it is.
			ssize_t n = pread(fd, dst + done, std::min(len - done, kFillPiece), off_t(off + done));
			if (n <= 0) {
				int err = n < 0 ? errno : EIO;
				close(fd);
				throw Error(format("cannot read %s at %llu", img.pages_file.c_str(), (unsigned long long)(off + done)),
					    err);
			}
			done += uint64_t(n);
			if (pages_read_counter)
				pages_read_counter->fetch_add(uint64_t(n), std::memory_order_relaxed);
		}
		off += len;
	}
	close(fd);
}

// The restorer's memory: [blob | args header and arrays | stack].
struct RestorerArea {
	uint64_t base = 0, len = 0, args = 0, stack_top = 0, entry = 0;
	uint8_t *cursor = nullptr, *limit = nullptr;

	template <typename T> T *alloc(size_t n)
	{
		uint8_t *p = reinterpret_cast<uint8_t *>((uintptr_t(cursor) + 15) & ~uintptr_t(15));
		if (p + n * sizeof(T) > limit)
			throw Error("internal: the restorer's argument area is too small", ENOMEM);
		cursor = p + n * sizeof(T);
		return reinterpret_cast<T *>(p);
	}
};

RestorerArea load_restorer(uint64_t at, uint64_t args_size)
{
	const compel_blob_desc &blob = restorer_x86_64_blob;
	RestorerArea a;
	a.base = at;
	a.args = at + blob.mem_size;
	a.stack_top = a.args + args_size + kRestorerStack;
	a.len = a.stack_top - at;
	void *p = mmap(reinterpret_cast<void *>(at), a.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		throw Error("cannot map the restorer", errno);
	if (compel_blob_relocate(&blob, p, at) != 0 ||
	    mprotect(p, blob.exec_size, PROT_READ | PROT_EXEC) != 0)
		throw Error("cannot load the restorer blob", errno ? errno : EINVAL);
	a.entry = at + uint64_t(compel_blob_export_offset(&blob, "restore"));
	a.cursor = reinterpret_cast<uint8_t *>(a.args + sizeof(restorer_args));
	a.limit = reinterpret_cast<uint8_t *>(a.args + args_size);
	return a;
}

void fill_task_args(restorer_args &ra, RestorerArea &area, const RestoreImages &img, int exe_fd)
{
	const MmEntry &mm = *img.mm;
	const TaskCoreEntry &t = *img.core->task;

	uint64_t *auxv = area.alloc<uint64_t>(mm.n_auxv);
	std::copy(mm.auxv, mm.auxv + mm.n_auxv, auxv);
	ra.mm = {mm.start_code, mm.end_code, mm.start_data, mm.end_data, mm.start_brk, mm.brk, mm.start_stack,
		 mm.arg_start, mm.arg_end, mm.env_start, mm.env_end, uint64_t(uintptr_t(auxv)),
		 uint32_t(mm.n_auxv * sizeof(uint64_t)), uint32_t(exe_fd)};

	for (size_t i = 0; i < t.n_sigactions; i++) {
		const SigactionEntry &s = *t.sigactions[i];
		if (s.sig >= 1 && s.sig <= RESTORER_NR_SIGNALS)
			ra.sigactions[s.sig - 1] = {s.handler, s.flags, s.restorer, s.mask};
	}
	for (size_t i = 0; i < t.n_itimers && t.itimers[i]->which < 3; i++)
		ra.itimers[t.itimers[i]->which] = {t.itimers[i]->value_ns, t.itimers[i]->interval_ns};
	auto *timers = area.alloc<restorer_timer>(t.n_posix_timers);
	for (size_t i = 0; i < t.n_posix_timers; i++) {
		const PosixTimerEntry &p = *t.posix_timers[i];
		timers[i] = {p.id, p.clock, p.notify, p.signo, p.notify_tid, 0, p.sigval, p.value_ns, p.interval_ns};
	}
	ra.timers = uintptr_t(timers), ra.nr_timers = uint32_t(t.n_posix_timers);

	ra.personality = t.personality;
	ra.umask = t.umask;
	ra.dumpable = int32_t(t.dumpable), ra.pdeathsig = t.pdeathsig;
	ra.child_subreaper = t.child_subreaper, ra.no_new_privs = t.no_new_privs;

	auto siginfos = [&](SiginfoEntry **e, size_t n) {
		uint8_t *out = area.alloc<uint8_t>(n * RESTORER_SIGINFO_SIZE);
		for (size_t i = 0; i < n; i++)
			memcpy(out + i * RESTORER_SIGINFO_SIZE, e[i]->siginfo.data,
			       std::min<size_t>(e[i]->siginfo.len, RESTORER_SIGINFO_SIZE));
		return uint64_t(uintptr_t(out));
	};
	ra.shared_pending = siginfos(t.shared_pending, t.n_shared_pending);
	ra.nr_shared_pending = uint32_t(t.n_shared_pending);

	std::vector<const CoreEntry *> cores = {&*img.core};
	for (const auto &core : img.threads)
		cores.push_back(&*core);
	auto *threads = area.alloc<restorer_thread>(cores.size());
	for (size_t i = 0; i < cores.size(); i++) {
		const ThreadCoreEntry &th = *cores[i]->thread;
		restorer_thread &rt = threads[i];
		rt = {};
		rt.tid = int32_t(cores[i]->tid);
		if (i)
			rt.stack_top = uint64_t(uintptr_t(area.alloc<uint8_t>(RESTORER_THREAD_STACK))) + RESTORER_THREAD_STACK;
		if (th.rseq)
			rt.rseq_area = th.rseq->area, rt.rseq_len = th.rseq->length, rt.rseq_sig = th.rseq->signature;
		rt.clear_child_tid = th.clear_child_tid;
		rt.robust_list = th.robust_list, rt.robust_list_len = th.robust_list_len;
		rt.altstack_sp = th.altstack_sp, rt.altstack_size = th.altstack_size, rt.altstack_flags = th.altstack_flags;
		strncpy(rt.name, th.name ? th.name : t.comm, sizeof(rt.name) - 1);
		rt.pending = siginfos(th.pending, th.n_pending), rt.nr_pending = uint32_t(th.n_pending);
	}
	ra.threads = uintptr_t(threads), ra.nr_threads = uint32_t(cores.size());

	const CredsEntry &c = *t.creds;
	ra.uid = c.uid, ra.euid = c.euid, ra.suid = c.suid, ra.fsuid = c.fsuid;
	ra.gid = c.gid, ra.egid = c.egid, ra.sgid = c.sgid, ra.fsgid = c.fsgid;
	auto *groups = area.alloc<uint32_t>(c.n_groups);
	std::copy(c.groups, c.groups + c.n_groups, groups);
	ra.groups = uintptr_t(groups), ra.nr_groups = uint32_t(c.n_groups);
	ra.securebits = c.securebits;
	ra.cap_inh = c.cap_inh, ra.cap_prm = c.cap_prm, ra.cap_eff = c.cap_eff;
	ra.cap_bnd = c.cap_bnd, ra.cap_amb = c.cap_amb;
}

int highest_fd(const RestoreImages &img)
{
	int m = 2;
	for (auto &d : img.fdinfo)
		m = std::max(m, int(d->fd));
	return m;
}

[[noreturn]] void prepare_and_jump(const RestoreImages &img, const ImagesDir &dir, ServiceFds &sfd, int &status_fd,
				   const Received &received)
{
	const MmEntry &mm = *img.mm;
	int exe = open(img.file(mm.exe_file_id).reg->path, O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		throw Error(format("cannot open the executable %s", img.file(mm.exe_file_id).reg->path), errno);
	// The originals are closed with the rest of criu's descriptors.
	std::vector<int> fds = sfd.install({status_fd, dir.fd(), log_fd(), exe});
	status_fd = fds[ServiceFds::Status];
	int dir_fd = fds[ServiceFds::Dir], log = fds[ServiceFds::Log], exe_fd = fds[ServiceFds::Exe];
	ImagesDir images(dir_fd, dir.path());
	log_relocate(log);
	place_files(img, images, sfd, received); // its controlling terminal is taken already (TreeCommand::Ctty)
	restore_fs_and_limits(img);

	// Where things go: this task's memory and the process's stay apart.
	OwnMaps maps;
	AddressPlan plan = plan_apart(mm, maps);
	std::vector<char> &maps_buf = maps.buf;
	std::vector<Range> &own = maps.ranges;
	std::vector<ShortName> &names = maps.names;
	size_t nr_own = maps.count;
	uint64_t specials_len = 0;
	for (size_t i = 0; i < mm.n_vmas; i++)
		if (is_special(mm.vmas[i]->kind))
			specials_len += mm.vmas[i]->end - mm.vmas[i]->start;
	size_t pending = img.core->thread->n_pending + img.core->task->n_shared_pending;
	for (const auto &core : img.threads)
		pending += core->thread->n_pending;
	size_t nr_threads = 1 + img.threads.size();
	uint64_t args_size = page_up(sizeof(restorer_args) + (nr_own + 256) * sizeof(restorer_range) +
				     mm.n_vmas * sizeof(restorer_vma) + mm.n_auxv * 8 + pending * RESTORER_SIGINFO_SIZE +
				     img.core->task->n_posix_timers * sizeof(restorer_timer) + img.core->task->creds->n_groups * 4 +
				     nr_threads * (sizeof(restorer_thread) + RESTORER_THREAD_STACK + 16) + 4096);
	uint64_t area_at = plan.find(page_up(restorer_x86_64_blob.mem_size) + args_size + kRestorerStack);
	uint64_t scratch_at = plan.find(page_up(specials_len) + kPage);
	RestorerArea area = load_restorer(area_at, args_size);
	reserve(scratch_at, page_up(specials_len) + kPage, "moving the vDSO");

	auto &ra = *reinterpret_cast<restorer_args *>(area.args);
	ra = {};
	ra.self = {area.base, area.len};
	ra.scratch = {scratch_at, page_up(specials_len) + kPage};
	ra.premap = {premapped.at, premapped.len};
	auto *vmas = area.alloc<restorer_vma>(mm.n_vmas);
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (!is_special(v.kind))
			vmas[ra.nr_vmas++] = {premapped.slot[i], v.start, v.end - v.start, v.madvise, v.prot, 0};
	}
	ra.vmas = uintptr_t(vmas);
	fill_task_args(ra, area, img, exe_fd);

	// The special mappings move to where the process had them; they must
	// be the ones it had (same kernel), or its vDSO calls break.
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (!is_special(v.kind) || v.kind == VMA_ENTRY__KIND_T__VSYSCALL)
			continue;
		size_t k = 0;
		while (k < std::min(nr_own, names.size()) && !is_name(names[k], special_name(v.kind)))
			k++;
		if (k == std::min(nr_own, names.size()) || own[k].end - own[k].start != v.end - v.start)
			throw Error(format("the dumped process had %s of %llu bytes; this kernel's differs: restoring "
					   "on another kernel is not supported",
					   special_name(v.kind), (unsigned long long)(v.end - v.start)),
				    ENOTSUP);
		ra.specials[ra.nr_specials++] = {own[k].start, v.start, v.end - v.start};
	}
	// glibc's __rseq_size is the size of the features it uses; the kernel
	// knows the area by the length it was registered with, never less than
	// the original 32 bytes.
	if (__rseq_size)
		ra.criu_rseq = uint64_t(uintptr_t(__builtin_thread_pointer()) + uintptr_t(__rseq_offset)),
		ra.criu_rseq_len = std::max(__rseq_size, 32u), ra.criu_rseq_sig = host_arch_core().libc_rseq_signature();
	ra.close_fds[0] = dir_fd, ra.close_fds[1] = log, ra.close_fds[2] = exe_fd, ra.close_fds[3] = -1;
	ra.status_fd = status_fd;

	// Last, and allocating nothing after it: the map of what criu leaves.
	auto *unmap = area.alloc<restorer_range>(0);
	size_t room = size_t(area.limit - reinterpret_cast<uint8_t *>(unmap)) / sizeof(restorer_range);
	std::vector<Range> mine(room);
	size_t n = read_own_maps(maps_buf, mine, names);
	if (n > room || n > names.size())
		throw Error("internal: criu's memory map outgrew the restorer's arguments", E2BIG);
	for (size_t i = 0; i < n; i++) {
		const Range &r = mine[i];
		bool keep = (r.start >= area.base && r.end <= area.base + area.len) ||
			    (r.start >= scratch_at && r.end <= scratch_at + ra.scratch.len) ||
			    (r.start >= premapped.at && r.end <= premapped.at + premapped.len) ||
			    is_name(names[i], "[vdso]") || is_name(names[i], "[vvar]") ||
			    is_name(names[i], "[vvar_vclock]") || is_name(names[i], "[vsyscall]");
		if (!keep)
			unmap[ra.nr_unmap++] = {r.start, r.end - r.start};
	}
	ra.unmap = uintptr_t(unmap);
	host_arch_core().jump(area.entry, area.args, area.stack_top);
	__builtin_unreachable(); // a virtual call: the compiler cannot see that jump() is noreturn
}

} // namespace

void count_pages_in(std::atomic<uint64_t> *bytes_read) { pages_read_counter = bytes_read; }

void premap_memory(const RestoreImages &img, const ImagesDir &dir, Received &received)
{
	Premapped parent = std::exchange(premapped, {});
	const MmEntry &mm = *img.mm;
	OwnMaps maps;
	AddressPlan plan = plan_apart(mm, maps);
	uint64_t len = 0;
	for (size_t i = 0; i < mm.n_vmas; i++)
		if (!is_special(mm.vmas[i]->kind))
			len += mm.vmas[i]->end - mm.vmas[i]->start;
	len = page_up(len) + kPage;
	uint64_t at = plan.find(len);
	reserve(at, len, "the process's memory");
	premapped = {&img, at, len, std::vector<uint64_t>(mm.n_vmas)};
	for (size_t i = 0; i < mm.n_vmas; i++) {
		const VmaEntry &v = *mm.vmas[i];
		if (is_special(v.kind))
			continue;
		if (v.inherited)
			take_inherited(parent, v, at);
		else
			premap(img, v, at, received);
		premapped.slot[i] = at;
		at += v.end - v.start;
	}
	// Mapped: the mappings keep the memory and the files.
	for (auto &[shmid, fd] : received.shmem)
		close(fd);
	for (auto &[id, fd] : received.mapped)
		close(fd);
	received.shmem.clear(), received.mapped.clear();
	// What is left of the parent's copy is not this process's.
	if (parent.len && munmap(reinterpret_cast<void *>(parent.at), parent.len) != 0)
		throw Error("cannot unmap what is left of the parent's memory", errno);
	LOG_DEBUG("pid %d: %zu VMAs premapped", img.pid, mm.n_vmas);
	fill_pages(img, dir, premapped.slot);
	LOG_DEBUG("pid %d: %llu pages read", img.pid, (unsigned long long)img.data_pages);
}

void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd, Received received)
{
	// If its parent dies (criu, or a process of the tree that failed), so
	// does it: nothing half-restored stays.
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	// Room for the descriptors parked above the service descriptors; the
	// process's own limit comes back with its other rlimits.
	rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	ServiceFds sfd(highest_fd(img));
	try {
		// Out of the way of the service descriptors and of every number a
		// file goes to.
		auto move_up = [&](int &fd) {
			int high = fcntl(fd, F_DUPFD_CLOEXEC, sfd.park_base());
			if (high < 0)
				throw Error(format("cannot move what criu sent above %d", sfd.park_base()), errno);
			close(std::exchange(fd, high));
		};
		for (auto &[id, fd] : received.files)
			move_up(fd);
		prepare_and_jump(img, dir, sfd, status_fd, received);
	} catch (const Error &e) {
		std::string msg = std::string("ERR:") + e.what();
		[[maybe_unused]] ssize_t r = write(status_fd, msg.data(), msg.size());
	}
	_exit(1);
}

} // namespace criu
