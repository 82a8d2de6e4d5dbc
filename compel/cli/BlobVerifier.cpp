#include "BlobVerifier.h"

#include <algorithm>
#include <iterator>

#include "Disassembler.h"
#include "ElfBlob.h"
#include "format.h"

namespace compel {

namespace {

using Kind = Instruction::Kind;

// The std plugin's syscall stubs (arch/*/blob/syscall-*.S, clone-*.S): the
// one place a blob may make a syscall, so that auditing them audits them all.
// compel_clone_thread is clone3 for a thread, which cannot go through
// compel_syscall: the child must not return through its parent's frames.
const char kSyscallStub[] = "compel_syscall";
const char kCloneStub[] = "compel_clone_thread";

enum class Mode { code, thumb, data };

Mode mode_of(char mapping)
{
	switch (mapping) {
	case 't':
		return Mode::thumb;
	case 'd':
		return Mode::data;
	default:
		return Mode::code; // $a or $x: the arch's own instruction set
	}
}

// Code being verified: a function, or a stretch of a section that no
// function symbol covers.
struct Place {
	std::string name; // of the function, or of the section
	uint64_t start;   // offset of the function or section
	bool in_function;

	std::string at(uint64_t offset) const
	{
		auto off = (unsigned long long)(offset - start), blob = (unsigned long long)offset;
		if (in_function)
			return format("%s+0x%llx (blob offset 0x%llx)", name.c_str(), off, blob);
		return format("%s+0x%llx (blob offset 0x%llx, outside any function symbol)", name.c_str(), off, blob);
	}
};

// Why instruction i may not be where it is, or "" if it may.
std::string forbidden(const Instruction &i, const Place &place)
{
	switch (i.kind) {
	case Kind::plain:
		return "";
	case Kind::undecodable:
		// Outside functions it is padding: lld fills AArch64 gaps with zeros.
		if (!place.in_function)
			return "";
		return "bytes capstone cannot decode (data without a $d mapping symbol, or an "
		       "instruction capstone 4 does not know)";
	case Kind::fp_vector:
		return "FP/vector instruction (" + i.evidence +
		       "): a parasite runs on the victim's registers and must leave its FP and "
		       "vector state alone";
	case Kind::privileged:
		return "privileged instruction (" + i.evidence + ")";
	case Kind::syscall:
		if (place.in_function && (place.name == kSyscallStub || place.name == kCloneStub))
			return "";
		return std::string("syscall outside ") + kSyscallStub +
		       ": make syscalls with the std plugin's sys_*() wrappers, so that one stub "
		       "is all there is to audit";
	}
	return "";
}

class BlobVerifier {
public:
	explicit BlobVerifier(const std::string &path) : img_(read_blob_elf(path)), dis_(img_.arch) {}

	VerifyReport run()
	{
		const BlobImage::Function *previous = nullptr;
		for (const auto &f : img_.functions) {
			bool alias = previous && previous->offset == f.offset && previous->size == f.size;
			if (!alias)
				verify_function(f);
			previous = &f;
		}
		for (const auto &s : img_.code_sections)
			verify_gaps(s);
		return std::move(report_);
	}

private:
	void verify_function(const BlobImage::Function &f)
	{
		Place place{f.name, f.offset, true};
		uint64_t end = f.offset + f.size;
		if (f.size == 0) {
			problem(place.at(f.offset) + ": function without a size, which goes unverified "
						     "(hand-written code needs a .size)");
		} else if (!in_code_section(f.offset, end)) {
			problem(format("%s: function [0x%llx, 0x%llx) is not inside an executable section",
				       f.name.c_str(), (unsigned long long)f.offset, (unsigned long long)end));
		} else {
			report_.functions++;
			verify_code(place, f.offset, end, f.thumb ? Mode::thumb : Mode::code);
		}
	}

	// The stretches of section s that no function covers: padding, or
	// hand-written code with no function symbol, which may not hide what
	// functions may not hold.
	void verify_gaps(const BlobImage::CodeSection &s)
	{
		Place place{s.name, s.offset, false};
		uint64_t at = s.offset, end = std::min<uint64_t>(s.offset + s.size, img_.bytes.size());
		for (const auto &f : img_.functions) {
			if (f.offset >= end)
				break;
			if (f.offset > at)
				verify_code(place, at, f.offset, mode_at(at));
			at = std::max(at, f.offset + f.size);
		}
		if (at < end)
			verify_code(place, at, end, mode_at(at));
	}

	// Decodes [begin, end), in `mode` up to the first mapping symbol there
	// and in the mode each one gives from it on.
	void verify_code(const Place &place, uint64_t begin, uint64_t end, Mode mode)
	{
		auto m = std::lower_bound(img_.mappings.begin(), img_.mappings.end(), begin,
					  [](const BlobImage::Mapping &a, uint64_t v) { return a.offset < v; });
		for (; m != img_.mappings.end() && m->offset < end; ++m) {
			verify_run(place, begin, m->offset, mode);
			begin = m->offset;
			mode = mode_of(m->kind);
		}
		verify_run(place, begin, end, mode);
	}

	void verify_run(const Place &place, uint64_t begin, uint64_t end, Mode mode)
	{
		if (begin >= end || mode == Mode::data)
			return;
		for (const Instruction &i :
		     dis_.disassemble(img_.bytes.data() + begin, end - begin, begin, mode == Mode::thumb)) {
			if (place.in_function && i.kind != Kind::undecodable)
				report_.instructions++;
			std::string why = forbidden(i, place);
			if (!why.empty())
				problem(place.at(i.address) + ": " + i.text() + ": " + why);
		}
	}

	// The mode the last mapping symbol at or before offset sets.
	Mode mode_at(uint64_t offset) const
	{
		auto m = std::upper_bound(img_.mappings.begin(), img_.mappings.end(), offset,
					  [](uint64_t v, const BlobImage::Mapping &a) { return v < a.offset; });
		return m == img_.mappings.begin() ? Mode::code : mode_of(std::prev(m)->kind);
	}

	bool in_code_section(uint64_t begin, uint64_t end) const
	{
		if (end > img_.bytes.size())
			return false;
		return std::any_of(img_.code_sections.begin(), img_.code_sections.end(), [&](const auto &s) {
			return s.offset <= begin && end <= s.offset + s.size;
		});
	}

	void problem(std::string what) { report_.problems.push_back(std::move(what)); }

	BlobImage img_;
	Disassembler dis_;
	VerifyReport report_;
};

} // namespace

VerifyReport verify_blob(const std::string &path) { return BlobVerifier(path).run(); }

} // namespace compel
