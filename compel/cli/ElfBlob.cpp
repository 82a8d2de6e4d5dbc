#include "ElfBlob.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <compel/error.hpp>
#include "format.h"

namespace compel {

namespace {

constexpr uint64_t kPage = 4096;
constexpr const char kExportPrefix[] = "__export_";

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

struct ArchInfo {
	unsigned machine;
	compel_arch arch;
	unsigned elf_class;
	unsigned word_size;
	unsigned relative_type;
	bool rela;
};

const ArchInfo *arch_of_machine(unsigned machine)
{
	static const ArchInfo table[] = {
		{EM_X86_64, COMPEL_ARCH_X86_64, ELFCLASS64, 8, R_X86_64_RELATIVE, true},
		{EM_386, COMPEL_ARCH_I386, ELFCLASS32, 4, R_386_RELATIVE, false},
		{EM_ARM, COMPEL_ARCH_ARM, ELFCLASS32, 4, R_ARM_RELATIVE, false},
		{EM_AARCH64, COMPEL_ARCH_AARCH64, ELFCLASS64, 8, R_AARCH64_RELATIVE, true},
	};
	for (const ArchInfo &a : table)
		if (a.machine == machine)
			return &a;
	return nullptr;
}

// Names of the relocation types a compiler or linker may leave in a blob
// by mistake, for the error message.
std::string reloc_name(compel_arch arch, unsigned type)
{
	struct Name {
		compel_arch arch;
		unsigned type;
		const char *name;
	};
	static const Name names[] = {
		{COMPEL_ARCH_X86_64, R_X86_64_64, "R_X86_64_64"},
		{COMPEL_ARCH_X86_64, R_X86_64_PC32, "R_X86_64_PC32"},
		{COMPEL_ARCH_X86_64, R_X86_64_COPY, "R_X86_64_COPY"},
		{COMPEL_ARCH_X86_64, R_X86_64_GLOB_DAT, "R_X86_64_GLOB_DAT"},
		{COMPEL_ARCH_X86_64, R_X86_64_JUMP_SLOT, "R_X86_64_JUMP_SLOT"},
		{COMPEL_ARCH_X86_64, R_X86_64_RELATIVE, "R_X86_64_RELATIVE"},
		{COMPEL_ARCH_X86_64, R_X86_64_DTPMOD64, "R_X86_64_DTPMOD64"},
		{COMPEL_ARCH_X86_64, R_X86_64_TPOFF64, "R_X86_64_TPOFF64"},
		{COMPEL_ARCH_X86_64, R_X86_64_IRELATIVE, "R_X86_64_IRELATIVE"},
		{COMPEL_ARCH_I386, R_386_32, "R_386_32"},
		{COMPEL_ARCH_I386, R_386_PC32, "R_386_PC32"},
		{COMPEL_ARCH_I386, R_386_COPY, "R_386_COPY"},
		{COMPEL_ARCH_I386, R_386_GLOB_DAT, "R_386_GLOB_DAT"},
		{COMPEL_ARCH_I386, R_386_JMP_SLOT, "R_386_JMP_SLOT"},
		{COMPEL_ARCH_I386, R_386_RELATIVE, "R_386_RELATIVE"},
		{COMPEL_ARCH_I386, R_386_TLS_TPOFF, "R_386_TLS_TPOFF"},
		{COMPEL_ARCH_I386, R_386_IRELATIVE, "R_386_IRELATIVE"},
		{COMPEL_ARCH_ARM, R_ARM_ABS32, "R_ARM_ABS32"},
		{COMPEL_ARCH_ARM, R_ARM_COPY, "R_ARM_COPY"},
		{COMPEL_ARCH_ARM, R_ARM_GLOB_DAT, "R_ARM_GLOB_DAT"},
		{COMPEL_ARCH_ARM, R_ARM_JUMP_SLOT, "R_ARM_JUMP_SLOT"},
		{COMPEL_ARCH_ARM, R_ARM_RELATIVE, "R_ARM_RELATIVE"},
		{COMPEL_ARCH_ARM, R_ARM_TLS_TPOFF32, "R_ARM_TLS_TPOFF32"},
		{COMPEL_ARCH_ARM, R_ARM_IRELATIVE, "R_ARM_IRELATIVE"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_ABS64, "R_AARCH64_ABS64"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_COPY, "R_AARCH64_COPY"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_GLOB_DAT, "R_AARCH64_GLOB_DAT"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_JUMP_SLOT, "R_AARCH64_JUMP_SLOT"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_RELATIVE, "R_AARCH64_RELATIVE"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_TLS_TPREL, "R_AARCH64_TLS_TPREL"},
		{COMPEL_ARCH_AARCH64, R_AARCH64_IRELATIVE, "R_AARCH64_IRELATIVE"},
	};
	for (const Name &n : names)
		if (n.arch == arch && n.type == type)
			return n.name;
	return format("relocation type %u", type);
}

// An open ELF file; throws on anything libelf cannot read.
class ElfFile {
public:
	explicit ElfFile(const std::string &path) : path_(path)
	{
		if (elf_version(EV_CURRENT) == EV_NONE)
			throw Error("libelf: " + std::string(elf_errmsg(-1)));
		fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd_ < 0)
			throw_errno(path + ": cannot open");
		elf_ = elf_begin(fd_, ELF_C_READ, nullptr);
		if (!elf_ || elf_kind(elf_) != ELF_K_ELF) {
			close_all();
			throw Error(path + ": not an ELF file");
		}
		char *raw = elf_rawfile(elf_, &size_);
		raw_ = reinterpret_cast<const uint8_t *>(raw);
	}
	~ElfFile() { close_all(); }
	ElfFile(const ElfFile &) = delete;
	ElfFile &operator=(const ElfFile &) = delete;

	Elf *elf() const { return elf_; }
	const uint8_t *raw() const { return raw_; }
	size_t size() const { return size_; }

	[[noreturn]] void fail(const std::string &what) const { throw Error(path_ + ": " + what); }
	[[noreturn]] void fail_elf(const std::string &what) const
	{
		fail(what + ": " + elf_errmsg(-1) + " (truncated or corrupt file?)");
	}

private:
	void close_all()
	{
		if (elf_)
			elf_end(elf_);
		if (fd_ >= 0)
			close(fd_);
		elf_ = nullptr;
		fd_ = -1;
	}

	std::string path_;
	int fd_ = -1;
	Elf *elf_ = nullptr;
	const uint8_t *raw_ = nullptr;
	size_t size_ = 0;
};

struct Section {
	std::string name;
	GElf_Shdr hdr;
	Elf_Scn *scn;
};

class BlobReader {
public:
	explicit BlobReader(const std::string &path) : file_(path) {}

	BlobImage read()
	{
		read_header();
		read_sections();
		read_segments();
		check_sections();
		read_relocations();
		read_symbols();
		return std::move(img_);
	}

private:
	void read_header()
	{
		if (!gelf_getehdr(file_.elf(), &ehdr_))
			file_.fail_elf("cannot read the ELF header");
		info_ = arch_of_machine(ehdr_.e_machine);
		if (!info_)
			file_.fail(format("ELF machine %u is not a blob arch (x86_64, i386, arm, aarch64)",
					  ehdr_.e_machine));
		if (gelf_getclass(file_.elf()) != int(info_->elf_class))
			file_.fail(format("%s code in a %d-bit ELF file", compel_arch_name(info_->arch),
					  gelf_getclass(file_.elf()) == ELFCLASS64 ? 64 : 32));
		if (ehdr_.e_ident[EI_DATA] != ELFDATA2LSB)
			file_.fail("big-endian ELF: blobs are little-endian");
		if (ehdr_.e_type == ET_REL)
			file_.fail("an object file, not a linked blob (link it with compel's ldflags)");
		if (ehdr_.e_type == ET_EXEC)
			file_.fail("not position-independent (ET_EXEC): link with -pie --no-dynamic-linker");
		if (ehdr_.e_type != ET_DYN)
			file_.fail(format("ELF type %u is not a position-independent image", ehdr_.e_type));
		img_.arch = info_->arch;
		img_.word_size = info_->word_size;
		// libelf quietly drops tables that run past the end of the file.
		check_table("program headers", ehdr_.e_phoff, ehdr_.e_phnum, ehdr_.e_phentsize);
		check_table("section headers", ehdr_.e_shoff, ehdr_.e_shnum, ehdr_.e_shentsize);
	}

	void check_table(const char *what, uint64_t offset, uint64_t count, uint64_t entsize) const
	{
		uint64_t end = offset + count * entsize;
		if (count && end > file_.size())
			file_.fail(format("truncated: the %s end at byte %llu of a %zu-byte file", what,
					  (unsigned long long)end, file_.size()));
	}

	void read_sections()
	{
		size_t shstrndx;
		if (elf_getshdrstrndx(file_.elf(), &shstrndx) != 0)
			file_.fail_elf("cannot find the section name table");
		for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(file_.elf(), scn));) {
			Section s;
			s.scn = scn;
			if (!gelf_getshdr(scn, &s.hdr))
				file_.fail_elf("cannot read a section header");
			const char *name = elf_strptr(file_.elf(), shstrndx, s.hdr.sh_name);
			if (!name)
				file_.fail_elf("cannot read a section name");
			s.name = name;
			if (s.hdr.sh_type != SHT_NOBITS && s.hdr.sh_offset + s.hdr.sh_size > file_.size())
				file_.fail(format("truncated: section %s ends at byte %llu of a %zu-byte file",
						  s.name.c_str(),
						  (unsigned long long)(s.hdr.sh_offset + s.hdr.sh_size),
						  file_.size()));
			sections_.push_back(std::move(s));
		}
	}

	// The sections an address range [addr, addr + size) touches, for messages.
	std::string sections_at(uint64_t addr, uint64_t size) const
	{
		std::string names;
		for (const Section &s : sections_) {
			if (!(s.hdr.sh_flags & SHF_ALLOC) || s.hdr.sh_size == 0)
				continue;
			if (s.hdr.sh_addr < addr + size && addr < s.hdr.sh_addr + s.hdr.sh_size)
				names += (names.empty() ? "" : ", ") + s.name;
		}
		return names.empty() ? "no section" : names;
	}

	void read_segments()
	{
		size_t n;
		if (elf_getphdrnum(file_.elf(), &n) != 0)
			file_.fail_elf("cannot read the program headers");
		std::vector<GElf_Phdr> loads;
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr p;
			if (!gelf_getphdr(file_.elf(), int(i), &p))
				file_.fail_elf("cannot read a program header");
			if (p.p_type == PT_INTERP)
				file_.fail("has an interpreter (PT_INTERP): link with --no-dynamic-linker");
			if (p.p_type == PT_TLS)
				file_.fail("uses thread-local storage (" + sections_at(p.p_vaddr, p.p_memsz) +
					   "): a blob has no TLS of its own");
			if (p.p_type != PT_LOAD)
				continue;
			if ((p.p_flags & PF_W) && (p.p_flags & PF_X))
				file_.fail(format("segment %zu [0x%llx, 0x%llx) is writable and executable "
						  "(%s): blobs keep code and data apart",
						  i, (unsigned long long)p.p_vaddr,
						  (unsigned long long)(p.p_vaddr + p.p_memsz),
						  sections_at(p.p_vaddr, p.p_memsz).c_str()));
			if (p.p_offset + p.p_filesz > file_.size())
				file_.fail(format("truncated: segment %zu ends at byte %llu of a %zu-byte file", i,
						  (unsigned long long)(p.p_offset + p.p_filesz), file_.size()));
			if (p.p_filesz > p.p_memsz)
				file_.fail(format("segment %zu has more file bytes than memory", i));
			loads.push_back(p);
		}
		if (loads.empty())
			file_.fail("has no loadable segment");
		std::sort(loads.begin(), loads.end(),
			  [](const GElf_Phdr &a, const GElf_Phdr &b) { return a.p_vaddr < b.p_vaddr; });
		if (loads.front().p_vaddr != 0)
			file_.fail(format("first segment is linked at 0x%llx, not 0: use compel's link script",
					  (unsigned long long)loads.front().p_vaddr));

		uint64_t file_end = 0, mem_end = 0, exec_end = 0;
		bool seen_writable = false;
		for (const GElf_Phdr &p : loads) {
			bool writable = p.p_flags & PF_W;
			if (!writable && seen_writable)
				file_.fail(format("read-only segment at 0x%llx (%s) follows a writable one: "
						  "use compel's link script",
						  (unsigned long long)p.p_vaddr,
						  sections_at(p.p_vaddr, p.p_memsz).c_str()));
			if (writable && !seen_writable) {
				exec_end = page_up(mem_end);
				if (p.p_vaddr < exec_end)
					file_.fail(format("writable segment at 0x%llx shares a page with code",
							  (unsigned long long)p.p_vaddr));
			}
			seen_writable |= writable;
			if (p.p_vaddr < mem_end)
				file_.fail(format("segments overlap at 0x%llx", (unsigned long long)p.p_vaddr));
			if (p.p_filesz)
				file_end = p.p_vaddr + p.p_filesz;
			mem_end = p.p_vaddr + p.p_memsz;
		}
		if (!seen_writable)
			exec_end = page_up(mem_end);
		if (page_up(mem_end) > UINT32_MAX)
			file_.fail("is larger than 4 GiB");

		img_.mem_size = uint32_t(page_up(mem_end));
		img_.exec_size = uint32_t(exec_end);
		img_.bytes.assign(file_end, 0);
		for (const GElf_Phdr &p : loads)
			std::memcpy(img_.bytes.data() + p.p_vaddr, file_.raw() + p.p_offset, p.p_filesz);
	}

	void check_sections()
	{
		for (const Section &s : sections_) {
			uint64_t f = s.hdr.sh_flags;
			if ((f & SHF_ALLOC) && (f & SHF_EXECINSTR) && s.hdr.sh_size)
				img_.code_sections.push_back({s.name, s.hdr.sh_addr, s.hdr.sh_size});
			if ((f & SHF_ALLOC) && (f & SHF_WRITE) && (f & SHF_EXECINSTR))
				file_.fail("section " + s.name + " is writable and executable");
			if (f & SHF_TLS)
				file_.fail("section " + s.name + " holds thread-local data: a blob has no TLS");
			unsigned t = s.hdr.sh_type;
			if ((t == SHT_INIT_ARRAY || t == SHT_FINI_ARRAY || t == SHT_PREINIT_ARRAY) &&
			    s.hdr.sh_size)
				file_.fail("section " + s.name +
					   " lists constructors or destructors, which nothing runs in a blob");
		}
	}

	const Section *section(uint32_t index) const
	{
		for (const Section &s : sections_)
			if (elf_ndxscn(s.scn) == index)
				return &s;
		return nullptr;
	}

	std::string symbol_name(const Section &rel, uint64_t sym) const
	{
		if (sym == 0)
			return "";
		const Section *symtab = section(rel.hdr.sh_link);
		Elf_Data *data = symtab ? elf_getdata(symtab->scn, nullptr) : nullptr;
		GElf_Sym s;
		if (!data || !gelf_getsym(data, int(sym), &s))
			return format("#%llu", (unsigned long long)sym);
		const char *name = elf_strptr(file_.elf(), symtab->hdr.sh_link, s.st_name);
		return name ? name : format("#%llu", (unsigned long long)sym);
	}

	void read_relocations()
	{
		for (const Section &s : sections_) {
			if (s.hdr.sh_type != SHT_REL && s.hdr.sh_type != SHT_RELA)
				continue;
			if (!(s.hdr.sh_flags & SHF_ALLOC))
				continue; // --emit-relocs leftovers: nothing applies them at run time
			if ((s.hdr.sh_type == SHT_RELA) != info_->rela)
				file_.fail("section " + s.name + " has the wrong relocation format for " +
					   compel_arch_name(info_->arch));
			Elf_Data *data = elf_getdata(s.scn, nullptr);
			if (!data)
				file_.fail_elf("cannot read " + s.name);
			size_t count = s.hdr.sh_entsize ? s.hdr.sh_size / s.hdr.sh_entsize : 0;
			for (size_t i = 0; i < count; i++)
				read_relocation(s, data, i);
		}
	}

	void read_relocation(const Section &s, Elf_Data *data, size_t i)
	{
		uint64_t offset, info;
		int64_t addend = 0;
		if (info_->rela) {
			GElf_Rela r;
			if (!gelf_getrela(data, int(i), &r))
				file_.fail_elf("cannot read a relocation of " + s.name);
			offset = r.r_offset, info = r.r_info, addend = r.r_addend;
		} else {
			GElf_Rel r;
			if (!gelf_getrel(data, int(i), &r))
				file_.fail_elf("cannot read a relocation of " + s.name);
			offset = r.r_offset, info = r.r_info;
		}
		bool is64 = info_->elf_class == ELFCLASS64;
		unsigned type = is64 ? unsigned(GELF_R_TYPE(info)) : unsigned(ELF32_R_TYPE(info));
		uint64_t sym = is64 ? GELF_R_SYM(info) : ELF32_R_SYM(info);
		std::string where = format("at 0x%llx (in %s)", (unsigned long long)offset,
					   sections_at(offset, img_.word_size).c_str());

		if (type != info_->relative_type) {
			std::string name = symbol_name(s, sym);
			file_.fail(reloc_name(info_->arch, type) + " relocation " + where +
				   (name.empty() ? "" : " against symbol '" + name + "'") + ": blobs allow only " +
				   reloc_name(info_->arch, info_->relative_type) +
				   (name.empty() ? "" : " (is '" + name + "' defined in the blob, and hidden?)"));
		}
		if (offset < img_.exec_size)
			file_.fail("relocation " + where + " patches read-only code or data (a text relocation)");
		if (offset + img_.word_size > img_.mem_size)
			file_.fail("relocation " + where + " lies outside the image");
		if (!info_->rela) {
			if (offset + img_.word_size > img_.bytes.size())
				file_.fail("relocation " + where + " patches bss, where no addend can be stored");
			uint32_t v;
			std::memcpy(&v, img_.bytes.data() + offset, 4);
			addend = v;
		}
		if (addend < 0 || uint64_t(addend) > img_.mem_size)
			file_.fail(format("relocation %s points outside the image (addend 0x%llx)", where.c_str(),
					  (unsigned long long)addend));
		img_.relocs.push_back({uint32_t(offset), uint32_t(addend)});
	}

	void read_symbols()
	{
		bool have_symtab = false;
		for (const Section &s : sections_) {
			if (s.hdr.sh_type != SHT_SYMTAB && s.hdr.sh_type != SHT_DYNSYM)
				continue;
			bool symtab = s.hdr.sh_type == SHT_SYMTAB;
			have_symtab |= symtab;
			Elf_Data *data = elf_getdata(s.scn, nullptr);
			if (!data)
				file_.fail_elf("cannot read " + s.name);
			size_t count = s.hdr.sh_entsize ? s.hdr.sh_size / s.hdr.sh_entsize : 0;
			for (size_t i = 1; i < count; i++) {
				GElf_Sym sym;
				if (!gelf_getsym(data, int(i), &sym))
					file_.fail_elf("cannot read a symbol of " + s.name);
				const char *name = elf_strptr(file_.elf(), s.hdr.sh_link, sym.st_name);
				if (!name)
					file_.fail_elf("cannot read a symbol name of " + s.name);
				if (sym.st_shndx == SHN_UNDEF && *name)
					file_.fail(std::string(GELF_ST_BIND(sym.st_info) == STB_WEAK ? "weak " : "") +
						   "symbol '" + name + "' is undefined (listed in " + s.name +
						   "): a blob must define everything it uses");
				if (!symtab)
					continue;
				if (std::strncmp(name, kExportPrefix, sizeof(kExportPrefix) - 1) == 0)
					add_export(name + sizeof(kExportPrefix) - 1, sym);
				add_code_symbol(name, sym);
			}
		}
		if (!have_symtab)
			file_.fail("has no symbol table (stripped?): exports cannot be found");
		std::sort(img_.exports.begin(), img_.exports.end(),
			  [](const auto &a, const auto &b) { return a.name < b.name; });
		std::sort(img_.functions.begin(), img_.functions.end(), [](const auto &a, const auto &b) {
			return std::tie(a.offset, a.name) < std::tie(b.offset, b.name);
		});
		std::sort(img_.mappings.begin(), img_.mappings.end(),
			  [](const auto &a, const auto &b) { return a.offset < b.offset; });
	}

	// The Arm ELF ABIs' mapping symbols: "$a", "$t", "$x" or "$d", alone or
	// followed by "." and anything.
	static bool is_mapping_symbol(const char *name)
	{
		return name[0] == '$' && name[1] && std::strchr("atxd", name[1]) &&
		       (name[2] == '\0' || name[2] == '.');
	}

	void add_code_symbol(const char *name, const GElf_Sym &sym)
	{
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
			return;
		const Section *in = section(sym.st_shndx);
		if (!in)
			return;
		unsigned type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_FUNC) {
			bool thumb = info_->arch == COMPEL_ARCH_ARM && (sym.st_value & 1);
			img_.functions.push_back({name, sym.st_value & ~uint64_t(thumb), sym.st_size, thumb});
		} else if (type == STT_NOTYPE && (in->hdr.sh_flags & SHF_EXECINSTR) && is_mapping_symbol(name)) {
			img_.mappings.push_back({sym.st_value, name[1]});
		}
	}

	void add_export(const std::string &name, const GElf_Sym &sym)
	{
		if (sym.st_shndx == SHN_ABS || sym.st_value >= img_.mem_size)
			file_.fail("export '" + name + "' lies outside the image");
		for (const auto &e : img_.exports)
			if (e.name == name)
				file_.fail("export '" + name + "' is defined twice");
		img_.exports.push_back({name, uint32_t(sym.st_value)});
	}

	ElfFile file_;
	GElf_Ehdr ehdr_{};
	const ArchInfo *info_ = nullptr;
	std::vector<Section> sections_;
	BlobImage img_;
};

} // namespace

BlobImage read_blob_elf(const std::string &path) { return BlobReader(path).read(); }

} // namespace compel
