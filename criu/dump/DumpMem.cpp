// The address space: VMAs into mm-<pid>.img, and the pages that are the
// process's own into pagemap-<pid>.img and pages-<id>.img.
#include <algorithm>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FileTypes.h"
#include "Infection.h"
#include "Log.h"
#include "PagemapScan.h"
#include "Proc.h"
#include "Stats.h"
#include "format.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

namespace criu {

using compel::format;
using namespace proc;

namespace {

constexpr uint64_t kPage = 4096;

// smaps' VmFlags that an madvise() set, and which restore puts back.
struct MadvFlag {
	const char *vmflag;
	int advice;
};
const MadvFlag kMadvFlags[] = {
	{"dc", MADV_DONTFORK}, {"wf", MADV_WIPEONFORK}, {"dd", MADV_DONTDUMP}, {"hg", MADV_HUGEPAGE},
	{"nh", MADV_NOHUGEPAGE}, {"mg", MADV_MERGEABLE}, {"sr", MADV_SEQUENTIAL}, {"rr", MADV_RANDOM},
};

VmaEntry__KindT classify(DumpContext &c, const proc::Vma &v)
{
	if (v.name == "[vdso]")
		return VMA_ENTRY__KIND_T__VDSO;
	if (v.name == "[vvar]")
		return VMA_ENTRY__KIND_T__VVAR;
	if (v.name == "[vvar_vclock]")
		return VMA_ENTRY__KIND_T__VVAR_VCLOCK;
	if (v.name == "[vsyscall]")
		return VMA_ENTRY__KIND_T__VSYSCALL;
	if (v.shared && v.name == "/dev/zero (deleted)")
		return VMA_ENTRY__KIND_T__ANON_SHARED;
	if (v.name.rfind("/SYSV", 0) == 0)
		c.refuse(format("maps %s at 0x%llx: not supported yet", v.name.c_str(), (unsigned long long)v.start));
	if (v.ino)
		return v.shared ? VMA_ENTRY__KIND_T__FILE_SHARED : VMA_ENTRY__KIND_T__FILE_PRIVATE;
	if (v.shared)
		c.refuse(format("has a shared mapping %s at 0x%llx of a kind criu does not know", v.name.c_str(),
			      (unsigned long long)v.start));
	return VMA_ENTRY__KIND_T__ANON;
}

// A deleted file the tree maps: its contents saved once, and one file
// entry for every mapping of it (restore makes it again once, for all).
uint32_t deleted_file(DumpContext &c, FileEntry *f, const std::string &link, const proc::Vma &v)
{
	std::pair<uint64_t, uint64_t> inode = {f->reg->dev, f->reg->ino};
	if (auto it = c.mapped_deleted.find(inode); it != c.mapped_deleted.end())
		return it->second;
	f->reg->flags = O_RDWR;
	uint32_t id = c.files.add(f);
	save_ghost(c, f, link, format("the mapping at 0x%llx", (unsigned long long)v.start));
	return c.mapped_deleted[inode] = id;
}

bool is_memfd_name(const std::string &name) { return name.rfind("/memfd:", 0) == 0; }

// A memfd the tree maps: one file entry for all its mappings, its
// contents saved once with any descriptor of it (by inode).  Restore makes
// it before the processes, and gives it to each that maps it.
uint32_t mapped_memfd(DumpContext &c, const std::string &link, const proc::Vma &v)
{
	std::string what = format("the mapping at 0x%llx", (unsigned long long)v.start);
	UniqueFd local(open(link.c_str(), O_RDONLY | O_CLOEXEC));
	if (!local)
		c.fail(format("%s: cannot open the memfd %s", what.c_str(), v.name.c_str()), errno);
	DumpedFd d = DumpedFd::mapped(c, local.get(), what);
	if (!is_memfd(d))
		d.refuse(format("maps %s, which is not a memfd: not supported yet", d.target.c_str()));
	std::pair<uint64_t, uint64_t> inode = {d.st.st_dev, d.st.st_ino};
	auto it = c.mapped_memfds.find(inode);
	uint32_t id = it != c.mapped_memfds.end() ? it->second : 0;
	const FileEntry *f = id ? c.files.entries()[id - 1] : nullptr;
	if (!f) {
		FileEntry *made = dump_memfd(d);
		made->memfd->flags = O_RDWR;
		made->memfd->pos = 0;
		id = c.mapped_memfds[inode] = c.files.add(made);
		f = made;
	}
	// F_SEAL_FUTURE_WRITE keeps the writable shared mappings made before
	// it, which restore could not make after it.
	if (v.shared && v.write && (f->memfd->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		d.refuse(format("maps the memfd %s writable and shared, and it is sealed against writes since: not "
				"supported yet",
				f->memfd->name));
	return id;
}

VmaEntry *describe(DumpContext &c, const proc::Vma &v, VmaEntry__KindT kind)
{
	VmaEntry e = VMA_ENTRY__INIT;
	e.start = v.start;
	e.end = v.end;
	e.kind = kind;
	e.prot = (v.read ? PROT_READ : 0) | (v.write ? PROT_WRITE : 0) | (v.exec ? PROT_EXEC : 0);
	e.flags = (v.shared ? MAP_SHARED : MAP_PRIVATE) | (v.has("gd") ? MAP_GROWSDOWN : 0) |
		  (v.has("nr") ? MAP_NORESERVE : 0);
	if (!v.name.empty())
		e.name = c.arena.str(v.name);
	uint64_t madv = 0;
	for (const MadvFlag &f : kMadvFlags)
		if (v.has(f.vmflag))
			madv |= 1ull << f.advice;
	e.has_madvise = madv != 0;
	e.madvise = madv;
	if ((kind == VMA_ENTRY__KIND_T__FILE_PRIVATE || kind == VMA_ENTRY__KIND_T__FILE_SHARED) && is_memfd_name(v.name)) {
		e.has_file_id = e.has_pgoff = true;
		e.file_id = mapped_memfd(
			c, format("/proc/%d/map_files/%llx-%llx", c.pid, (unsigned long long)v.start, (unsigned long long)v.end),
			v);
		e.pgoff = v.offset;
	} else if (kind == VMA_ENTRY__KIND_T__FILE_PRIVATE || kind == VMA_ENTRY__KIND_T__FILE_SHARED) {
		std::string link = format("/proc/%d/map_files/%llx-%llx", c.pid, (unsigned long long)v.start,
					  (unsigned long long)v.end);
		FileEntry *f = reg_file(c, v.name, link, v.shared && v.write ? O_RDWR : O_RDONLY, 0);
		if (f->reg->ino != v.ino)
			c.fail(format("cannot open the file %s mapped at 0x%llx", v.name.c_str(),
				      (unsigned long long)v.start),
			       ESTALE);
		e.has_file_id = true;
		e.file_id = f->reg->deleted ? deleted_file(c, f, link, v) : c.files.add(f);
		e.has_pgoff = true;
		e.pgoff = v.offset;
	}
	if (kind == VMA_ENTRY__KIND_T__ANON_SHARED) {
		e.has_shmid = true;
		e.shmid = v.ino;
		e.has_pgoff = true;
		e.pgoff = v.offset;
	}
	return c.arena.make(e);
}

// What /proc/PID/pagemap tells of a page.
constexpr uint64_t kPmPresent = 1ull << 63;
constexpr uint64_t kPmPfn = (1ull << 55) - 1; // zero unless criu has CAP_SYS_ADMIN

// The pagemap entries of [start, end), one per page.
std::vector<uint64_t> read_pagemap(DumpContext &c, int fd, pid_t pid, uint64_t start, uint64_t end)
{
	std::vector<uint64_t> out((end - start) / kPage);
	size_t len = out.size() * sizeof(uint64_t);
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, reinterpret_cast<char *>(out.data()) + done, len - done,
				  off_t(start / kPage * sizeof(uint64_t) + done));
		if (n <= 0)
			c.fail(format("cannot read /proc/%d/pagemap at 0x%llx", pid, (unsigned long long)start),
			       n < 0 ? errno : EIO);
		done += size_t(n);
	}
	return out;
}

// The parent's vma that v can be restored as a copy of: the same range,
// kind, and file at the same offset.
const VmaEntry *parent_copy(DumpContext &c, const MmEntry *parent, const VmaEntry &v)
{
	if (!parent || (v.kind != VMA_ENTRY__KIND_T__ANON && v.kind != VMA_ENTRY__KIND_T__FILE_PRIVATE))
		return nullptr;
	for (size_t i = 0; i < parent->n_vmas; i++) {
		const VmaEntry &p = *parent->vmas[i];
		if (p.start != v.start || p.end != v.end || p.kind != v.kind)
			continue;
		if (v.kind == VMA_ENTRY__KIND_T__ANON)
			return &p;
		const FileEntry &mine = *c.files.entries()[v.file_id - 1], &theirs = *c.files.entries()[p.file_id - 1];
		return same_mapped_file(mine, theirs) && p.pgoff == v.pgoff ? &p : nullptr;
	}
	return nullptr;
}

// Collects the pagemap entries, and has the pages written: by the parasite,
// which reads them in place, or, where the process cannot read its own
// memory (PROT_NONE...), by criu through /proc/PID/mem.
class PageDumper {
public:
	PageDumper(DumpContext &c, compel::core::Infection &inf)
		: c_(c), inf_(inf), args_(static_cast<union dump_args *>(inf.args())->pages),
		  pages_(c.dir.fd(), c.dir.path(), ImageKind::Pages, format("pages-%d.img", c.pid))
	{
		// One pages image per process, named by its pid.
		c.written.push_back(format("pages-%d.img", c.pid));
		pagemap_ = open(format("/proc/%d/pagemap", c.pid).c_str(), O_RDONLY | O_CLOEXEC);
		if (pagemap_ < 0)
			c.fail("cannot open /proc/PID/pagemap", errno);
		if (c.parent) {
			parent_pagemap_ = open(format("/proc/%d/pagemap", c.parent).c_str(), O_RDONLY | O_CLOEXEC);
			if (parent_pagemap_ < 0)
				c.fail(format("cannot open /proc/%d/pagemap, its parent's", c.parent), errno);
		}
	}
	~PageDumper()
	{
		close(pagemap_);
		if (parent_pagemap_ >= 0)
			close(parent_pagemap_);
	}
	PageDumper(const PageDumper &) = delete;
	PageDumper &operator=(const PageDumper &) = delete;

	// Queues the pages of a VMA that are the process's own; where it
	// shares pages with parent (its parent's vma of the same range), marks
	// it inherited and lists those as the parent's.
	void dump(VmaEntry &v, const VmaEntry *parent)
	{
		bool private_file = v.kind == VMA_ENTRY__KIND_T__FILE_PRIVATE;
		bool readable = v.prot & PROT_READ;
		if (!readable)
			flush(); // pages go to the image in address order
		if (parent) {
			std::vector<Run> runs = split_by_parent(v, private_file);
			if (!runs.empty()) {
				v.has_inherited = v.inherited = true;
				for (const Run &r : runs)
					readable ? queue(r) : copy(r);
				return;
			}
		}
		for (const Span &own : own_pages(pagemap_, c_.pid, v, private_file)) {
			Run r{own.start, (own.end - own.start) / kPage, private_file};
			readable ? queue(r) : copy(r);
		}
	}

	// The pagemap image's entries, its head first; commits the pages image.
	void finish()
	{
		flush();
		PagemapHead h = PAGEMAP_HEAD__INIT;
		h.pages_id = uint32_t(c_.pid);
		entries.insert(entries.begin(), &c_.arena.make(h)->base);
		pages_.commit();
		c_.pages.scanned += dumped_ + zero_ + inherited_;
		c_.pages.zero += zero_, c_.pages.written += dumped_, c_.pages.inherited += inherited_;
		LOG_INFO("pid %d: %llu pages dumped, %llu zero pages skipped, %llu pages shared with the parent",
			 c_.pid, (unsigned long long)dumped_, (unsigned long long)zero_, (unsigned long long)inherited_);
	}

	std::vector<const ProtobufCMessage *> entries;

private:
	// Pages to list: DATA, the process's own, which the parasite reads
	// (those of an inherited vma that read as zero are dropped); PARENT or
	// DISCARD, listed as they are.
	struct Run {
		uint64_t addr, nr_pages;
		bool private_file;
		PagemapEntry__FlagT as = PAGEMAP_ENTRY__FLAG_T__DATA;
		bool inherited = false;
	};

	struct Span {
		uint64_t start, end;
	};

	// The stretches of v where the process of pagemap fd has pages of its
	// own: present or swapped, not the shared zero page; in a private file
	// mapping, not the file's own pages either (only the copies it wrote
	// to).  PAGEMAP_SCAN walks only the page tables that exist.
	std::vector<Span> own_pages(int fd, pid_t pid, const VmaEntry &v, bool private_file)
	{
		std::vector<Span> out;
		PmScanArg arg{};
		arg.size = sizeof(arg);
		arg.start = v.start;
		arg.end = v.end;
		arg.vec = uintptr_t(regions_.data());
		arg.vec_len = regions_.size();
		arg.category_inverted = kPageIsPfnZero | (private_file ? kPageIsFile : 0);
		arg.category_mask = arg.category_inverted;
		arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
		arg.return_mask = kPageIsPresent | kPageIsSwapped;
		while (arg.start < v.end) {
			long n = ioctl(fd, kPagemapScan, &arg);
			if (n < 0)
				c_.fail(format("cannot scan the pagemap of pid %d at 0x%llx (PAGEMAP_SCAN, Linux 6.7+)", pid,
					       (unsigned long long)arg.start),
					errno);
			for (long i = 0; i < n; i++)
				out.push_back({regions_[i].start, regions_[i].end});
			arg.start = arg.walk_end;
		}
		return out;
	}

	// v's pages by what the parent has at the same address.  Where both
	// have a page, the very page (the same page frame: shared copy-on-write
	// since a fork) stays the parent's, another is the process's own; where
	// only the process has one, it is its own; where only the parent has,
	// the parent's is dropped.  Empty if v shares no page with the parent
	// (or criu cannot see page frames).
	std::vector<Run> split_by_parent(const VmaEntry &v, bool private_file)
	{
		std::vector<Span> mine = own_pages(pagemap_, c_.pid, v, private_file);
		std::vector<Span> theirs = own_pages(parent_pagemap_, c_.parent, v, private_file);
		std::vector<uint64_t> cuts;
		for (const auto *spans : {&mine, &theirs})
			for (const Span &s : *spans)
				cuts.push_back(s.start), cuts.push_back(s.end);
		std::sort(cuts.begin(), cuts.end());
		cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
		std::vector<Run> runs;
		auto emit = [&](uint64_t addr, uint64_t n, PagemapEntry__FlagT as) {
			Run *last = runs.empty() ? nullptr : &runs.back();
			if (last && last->as == as && last->addr + last->nr_pages * kPage == addr)
				last->nr_pages += n;
			else
				runs.push_back({addr, n, private_file, as, true});
		};
		bool shared = false;
		size_t i = 0, j = 0;
		for (size_t k = 0; k + 1 < cuts.size(); k++) {
			uint64_t a = cuts[k], b = cuts[k + 1];
			while (i < mine.size() && mine[i].end <= a)
				i++;
			while (j < theirs.size() && theirs[j].end <= a)
				j++;
			bool in_mine = i < mine.size() && mine[i].start <= a, in_theirs = j < theirs.size() && theirs[j].start <= a;
			if (!in_mine) {
				if (in_theirs)
					emit(a, (b - a) / kPage, PAGEMAP_ENTRY__FLAG_T__DISCARD);
				continue;
			}
			if (!in_theirs) {
				emit(a, (b - a) / kPage, PAGEMAP_ENTRY__FLAG_T__DATA);
				continue;
			}
			std::vector<uint64_t> m = read_pagemap(c_, pagemap_, c_.pid, a, b);
			const uint64_t *t = parent_span(theirs[j]).data() + (a - theirs[j].start) / kPage;
			for (size_t p = 0; p < m.size(); p++) {
				bool same = (m[p] & kPmPresent) && (t[p] & kPmPresent) && (m[p] & kPmPfn) &&
					    (m[p] & kPmPfn) == (t[p] & kPmPfn);
				shared |= same;
				emit(a + p * kPage, 1, same ? PAGEMAP_ENTRY__FLAG_T__INHERITED : PAGEMAP_ENTRY__FLAG_T__DATA);
			}
		}
		if (!shared)
			runs.clear();
		return runs;
	}

	// The parent's pagemap entries of one of its stretches of pages, read
	// once for all its children.
	const std::vector<uint64_t> &parent_span(const Span &span)
	{
		auto [it, fresh] = c_.parent_pagemaps.try_emplace({c_.parent, span.start});
		if (fresh)
			it->second = read_pagemap(c_, parent_pagemap_, c_.parent, span.start, span.end);
		return it->second;
	}

	void queue(Run r)
	{
		if (r.as != PAGEMAP_ENTRY__FLAG_T__DATA) {
			batch_.push_back(r);
			return;
		}
		while (r.nr_pages) {
			if (data_runs_ == DUMP_MAX_RUNS || batch_pages_ == DUMP_BATCH_PAGES)
				flush();
			Run part = r;
			part.nr_pages = std::min(r.nr_pages, DUMP_BATCH_PAGES - batch_pages_);
			batch_.push_back(part);
			data_runs_++;
			batch_pages_ += part.nr_pages;
			r.addr += part.nr_pages * kPage, r.nr_pages -= part.nr_pages;
		}
	}

	// Has the parasite write the queued runs, then lists them.
	void flush()
	{
		if (data_runs_) {
			args_.nr_runs = 0;
			for (const Run &r : batch_)
				if (r.as == PAGEMAP_ENTRY__FLAG_T__DATA)
					args_.runs[args_.nr_runs++] = {r.addr, r.nr_pages};
			LOG_DEBUG("pid %d: the parasite writes %u runs, %llu pages", c_.pid, args_.nr_runs,
				  (unsigned long long)batch_pages_);
			int fd = pages_.fd();
			inf_.send_fds(&fd, 1);
			int ret = inf_.call(DUMP_CMD_PAGES);
			if (ret < 0)
				c_.fail(format("the parasite could not write the pages image (step %u)", args_.failed_step),
					-ret);
			LOG_DEBUG("pid %d: the parasite wrote %llu pages", c_.pid, (unsigned long long)args_.written);
		}
		uint64_t page = 0;
		for (const Run &r : batch_) {
			last_ = nullptr;
			if (r.as != PAGEMAP_ENTRY__FLAG_T__DATA) {
				list(r);
				continue;
			}
			looked_at(r.nr_pages);
			for (uint64_t i = 0; i < r.nr_pages; i++, page++)
				note(r.addr + i * kPage, args_.zero[page / 64] >> (page % 64) & 1, r);
		}
		batch_.clear();
		data_runs_ = 0;
		batch_pages_ = 0;
	}

	// Copies a run criu reads itself, through /proc/PID/mem.
	void copy(const Run &r)
	{
		last_ = nullptr;
		if (r.as != PAGEMAP_ENTRY__FLAG_T__DATA) {
			list(r);
			return;
		}
		looked_at(r.nr_pages);
		std::vector<uint8_t> buf(kPage);
		for (uint64_t i = 0; i < r.nr_pages; i++) {
			uint64_t addr = r.addr + i * kPage;
			c_.task.read_mem(addr, buf.data(), kPage);
			bool zero = std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; });
			if (!zero)
				pages_.write_raw(buf.data(), kPage);
			note(addr, zero, r);
		}
	}

	// A INHERITED or DISCARD run.
	void list(const Run &r)
	{
		if (r.as == PAGEMAP_ENTRY__FLAG_T__INHERITED)
			inherited_ += r.nr_pages, looked_at(r.nr_pages);
		add(r.addr, r.as, r.nr_pages);
	}

	void looked_at(uint64_t nr_pages)
	{
		c_.progress_bytes += nr_pages * kPage;
		if (c_.progress)
			c_.progress->update(c_.progress_bytes);
	}

	// One page of run r, written to the image unless it is zero.
	void note(uint64_t addr, bool zero, const Run &r)
	{
		if (!zero) {
			dumped_++;
			add(addr, PAGEMAP_ENTRY__FLAG_T__DATA);
			return;
		}
		zero_++;
		// Anonymous memory reads as zero where nothing is restored (and
		// where the parent's copy is dropped); a private file page must be
		// zeroed, or the file shows through.
		if (r.private_file)
			add(addr, PAGEMAP_ENTRY__FLAG_T__ZERO);
		else if (r.inherited)
			add(addr, PAGEMAP_ENTRY__FLAG_T__DISCARD);
	}

	void add(uint64_t addr, PagemapEntry__FlagT flag, uint64_t nr_pages = 1)
	{
		if (last_ && last_->flag == flag && last_->vaddr + uint64_t(last_->nr_pages) * kPage == addr) {
			last_->nr_pages += uint32_t(nr_pages);
			return;
		}
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		e.vaddr = addr;
		e.nr_pages = uint32_t(nr_pages);
		e.flag = flag;
		last_ = c_.arena.make(e);
		entries.push_back(&last_->base);
	}

	DumpContext &c_;
	compel::core::Infection &inf_;
	dump_pages &args_;
	ImageWriter pages_;
	int pagemap_ = -1, parent_pagemap_ = -1;
	std::vector<PageRegion> regions_ = std::vector<PageRegion>(4096);
	std::vector<Run> batch_;
	size_t data_runs_ = 0;
	uint64_t batch_pages_ = 0;
	PagemapEntry *last_ = nullptr;
	uint64_t dumped_ = 0, zero_ = 0, inherited_ = 0;
};

bool has_pages(VmaEntry__KindT k)
{
	return k == VMA_ENTRY__KIND_T__ANON || k == VMA_ENTRY__KIND_T__FILE_PRIVATE || k == VMA_ENTRY__KIND_T__ANON_SHARED;
}

uint32_t exe_file(DumpContext &c)
{
	std::string link = format("/proc/%d/exe", c.pid);
	char buf[PATH_MAX];
	ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
	if (n < 0)
		c.fail("cannot read /proc/PID/exe", errno);
	return c.files.add(reg_file(c, std::string(buf, size_t(n)), link, O_RDONLY, 0));
}

} // namespace

MmEntry *collect_mm(DumpContext &c)
{
	proc::Stat st = proc::read_stat(c.pid);
	MmEntry mm = MM_ENTRY__INIT;
	mm.start_code = st.start_code, mm.end_code = st.end_code;
	mm.start_data = st.start_data, mm.end_data = st.end_data;
	mm.start_stack = st.start_stack, mm.start_brk = st.start_brk;
	mm.arg_start = st.arg_start, mm.arg_end = st.arg_end;
	mm.env_start = st.env_start, mm.env_end = st.env_end;
	std::vector<uint64_t> auxv = proc::read_auxv(c.pid, c.task.arch().word_size());
	mm.n_auxv = auxv.size();
	mm.auxv = c.arena.array<uint64_t>(auxv.size());
	std::copy(auxv.begin(), auxv.end(), mm.auxv);
	mm.exe_file_id = exe_file(c);

	std::vector<proc::Vma> vmas = proc::read_smaps(c.pid);
	mm.n_vmas = vmas.size();
	mm.vmas = c.arena.array<VmaEntry *>(vmas.size());
	for (size_t i = 0; i < vmas.size(); i++)
		mm.vmas[i] = describe(c, vmas[i], classify(c, vmas[i]));
	return c.arena.make(mm);
}

void dump_memory(DumpContext &c, compel::core::Infection &inf, MmEntry &mm)
{
	uint64_t start = monotonic_us();
	PageDumper pages(c, inf);
	auto parent = c.mms.find(c.parent);
	const MmEntry *parent_mm = parent == c.mms.end() ? nullptr : parent->second;
	for (size_t i = 0; i < mm.n_vmas; i++)
		if (has_pages(mm.vmas[i]->kind))
			pages.dump(*mm.vmas[i], parent_copy(c, parent_mm, *mm.vmas[i]));
	pages.finish();
	c.write_image(ImageKind::Pagemap, format("pagemap-%d.img", c.pid), pages.entries);
	c.pages.time_us += monotonic_us() - start;
}

} // namespace criu
