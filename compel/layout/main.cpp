// compel-layout: checks that the records (structs, unions) a header declares
// have the same layout for every target given, so that a host and a blob
// built for different arches (an x86-64 host and an i386 blob, say) can
// share them through memory.  Parses the header once per target with
// libclang and compares every record's size, alignment, and every field's
// offset and size, nested records flattened.
#include <clang-c/Index.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

struct Field {
	long long offset_bits;
	long long size; // bytes; -1 for a flexible array member
	int bit_width;  // -1 unless a bit-field
};

struct Record {
	long long size;
	long long align;
	std::map<std::string, Field> fields; // by path ("a.b", "arr[].c")
};

using Layouts = std::map<std::string, Record>; // by name ("struct foo", "foo_t")

std::string str(CXString s)
{
	const char *c = clang_getCString(s);
	std::string out = c ? c : "";
	clang_disposeString(s);
	return out;
}

struct FieldWalk {
	Record *record;
	std::string prefix;
	long long base_bits;
};

void add_fields(Record &rec, CXType type, const std::string &prefix, long long base_bits);

CXVisitorResult visit_field(CXCursor c, CXClientData data)
{
	auto *w = static_cast<FieldWalk *>(data);
	std::string name = str(clang_getCursorSpelling(c));
	if (clang_Cursor_isAnonymousRecordDecl(clang_getCursorDefinition(clang_getTypeDeclaration(clang_getCursorType(c)))))
		name.clear();
	long long off = w->base_bits + clang_Cursor_getOffsetOfField(c);
	CXType t = clang_getCanonicalType(clang_getCursorType(c));
	std::string path = w->prefix + name;
	if (!name.empty()) {
		long long size = clang_Type_getSizeOf(t);
		w->record->fields[path] = {off, size < 0 ? -1 : size,
					   clang_Cursor_isBitField(c) ? clang_getFieldDeclBitWidth(c) : -1};
	}
	if (t.kind == CXType_Record) {
		add_fields(*w->record, t, name.empty() ? w->prefix : path + ".", off);
	} else if (t.kind == CXType_ConstantArray) {
		CXType elem = clang_getCanonicalType(clang_getArrayElementType(t));
		if (elem.kind == CXType_Record)
			add_fields(*w->record, elem, path + "[].", off);
	}
	return CXVisit_Continue;
}

void add_fields(Record &rec, CXType type, const std::string &prefix, long long base_bits)
{
	FieldWalk w{&rec, prefix, base_bits};
	clang_Type_visitFields(type, visit_field, &w);
}

struct TuWalk {
	Layouts *layouts;
};

void add_record(Layouts &out, const std::string &name, CXType type)
{
	Record rec{clang_Type_getSizeOf(type), clang_Type_getAlignOf(type), {}};
	add_fields(rec, type, "", 0);
	out[name] = std::move(rec);
}

CXChildVisitResult visit_decl(CXCursor c, CXCursor, CXClientData data)
{
	auto *w = static_cast<TuWalk *>(data);
	if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)))
		return CXChildVisit_Continue;
	CXCursorKind k = clang_getCursorKind(c);
	if ((k == CXCursor_StructDecl || k == CXCursor_UnionDecl) && clang_isCursorDefinition(c) &&
	    !clang_Cursor_isAnonymous(c)) {
		add_record(*w->layouts, str(clang_getTypeSpelling(clang_getCursorType(c))),
			   clang_getCursorType(c));
		return CXChildVisit_Recurse;
	}
	if (k == CXCursor_TypedefDecl) {
		CXType t = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(c));
		CXCursor decl = clang_getTypeDeclaration(t);
		if (t.kind == CXType_Record && clang_Cursor_isAnonymous(decl))
			add_record(*w->layouts, str(clang_getCursorSpelling(c)), t);
	}
	return CXChildVisit_Continue;
}

struct Options {
	std::vector<std::string> targets;
	std::vector<std::string> cflags;
	std::vector<std::string> headers;
	bool cxx = false;
	bool verbose = false;
};

bool parse(CXIndex index, const Options &o, const std::string &header, const std::string &target,
	   Layouts &out)
{
	std::vector<std::string> args = {"--target=" + target, "-ffreestanding", "-nostdlibinc"};
	if (o.cxx)
		args.insert(args.end(), {"-x", "c++", "-std=gnu++20"});
	else
		args.insert(args.end(), {"-x", "c", "-std=gnu11"});
	args.insert(args.end(), o.cflags.begin(), o.cflags.end());
	std::vector<const char *> argv;
	for (auto &a : args)
		argv.push_back(a.c_str());

	CXTranslationUnit tu;
	CXErrorCode rc = clang_parseTranslationUnit2(index, header.c_str(), argv.data(), int(argv.size()),
						     nullptr, 0, CXTranslationUnit_SkipFunctionBodies, &tu);
	if (rc != CXError_Success) {
		fprintf(stderr, "compel-layout: %s: libclang cannot parse it for %s (error %d)\n",
			header.c_str(), target.c_str(), int(rc));
		return false;
	}
	bool ok = true;
	for (unsigned i = 0, n = clang_getNumDiagnostics(tu); i < n; i++) {
		CXDiagnostic d = clang_getDiagnostic(tu, i);
		if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
			fprintf(stderr, "compel-layout: for %s: %s\n", target.c_str(),
				str(clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions())).c_str());
			ok = false;
		}
		clang_disposeDiagnostic(d);
	}
	if (ok) {
		TuWalk w{&out};
		clang_visitChildren(clang_getTranslationUnitCursor(tu), visit_decl, &w);
	}
	clang_disposeTranslationUnit(tu);
	return ok;
}

std::string describe(const Field &f)
{
	std::string s = "byte " + std::to_string(f.offset_bits / 8);
	if (f.offset_bits % 8 || f.bit_width >= 0)
		s = "bit " + std::to_string(f.offset_bits) + ", " + std::to_string(f.bit_width) + " bits wide";
	else if (f.size >= 0)
		s += ", " + std::to_string(f.size) + " bytes";
	else
		s += ", flexible";
	return s;
}

// Compares `other` with `ref`; prints each difference; returns their number.
int compare(const std::string &header, const std::string &ref_target, const Layouts &ref,
	    const std::string &target, const Layouts &other)
{
	int diffs = 0;
	auto report = [&](const std::string &what) {
		fprintf(stderr, "compel-layout: %s: %s\n", header.c_str(), what.c_str());
		diffs++;
	};
	for (const auto &[name, r] : ref) {
		auto it = other.find(name);
		if (it == other.end()) {
			report(name + " is declared for " + ref_target + " but not for " + target);
			continue;
		}
		const Record &o = it->second;
		if (r.size != o.size)
			report(name + " is " + std::to_string(r.size) + " bytes for " + ref_target + " but " +
			       std::to_string(o.size) + " for " + target);
		if (r.align != o.align)
			report(name + " is aligned to " + std::to_string(r.align) + " for " + ref_target +
			       " but to " + std::to_string(o.align) + " for " + target);
		for (const auto &[path, f] : r.fields) {
			auto fi = o.fields.find(path);
			if (fi == o.fields.end()) {
				report(name + ": field '" + path + "' exists for " + ref_target + " but not for " +
				       target);
				continue;
			}
			const Field &g = fi->second;
			if (f.offset_bits != g.offset_bits || f.size != g.size || f.bit_width != g.bit_width)
				report(name + ": field '" + path + "' is at " + describe(f) + " for " + ref_target +
				       " but at " + describe(g) + " for " + target);
		}
		for (const auto &[path, g] : o.fields)
			if (!r.fields.count(path))
				report(name + ": field '" + path + "' exists for " + target + " but not for " +
				       ref_target);
	}
	for (const auto &[name, o] : other)
		if (!ref.count(name))
			report(name + " is declared for " + target + " but not for " + ref_target);
	return diffs;
}

const char kUsage[] =
	"usage: compel-layout --target TRIPLE [--target TRIPLE...] [-I DIR] [-D DEF] [--lang c|c++] [-v]\n"
	"                     HEADER...\n"
	"Fails if a struct or union of a HEADER is laid out differently for any two targets.\n";

bool parse_args(int argc, char **argv, Options &o)
{
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
		if (a == "--target") {
			const char *v = value();
			if (!v)
				return false;
			o.targets.push_back(v);
		} else if (a == "--lang") {
			const char *v = value();
			if (!v || (strcmp(v, "c") && strcmp(v, "c++")))
				return false;
			o.cxx = !strcmp(v, "c++");
		} else if (a == "-v") {
			o.verbose = true;
		} else if (a.rfind("-I", 0) == 0 || a.rfind("-D", 0) == 0) {
			if (a.size() == 2) {
				const char *v = value();
				if (!v)
					return false;
				a += v;
			}
			o.cflags.push_back(a);
		} else if (a == "-h" || a == "--help" || a[0] == '-') {
			return false;
		} else {
			o.headers.push_back(a);
		}
	}
	return !o.targets.empty() && !o.headers.empty();
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	if (!parse_args(argc, argv, o)) {
		fputs(kUsage, stderr);
		return 2;
	}
	CXIndex index = clang_createIndex(0, 0);
	int diffs = 0;
	bool ok = true;
	for (const auto &h : o.headers) {
		std::vector<Layouts> per_target(o.targets.size());
		for (size_t t = 0; t < o.targets.size(); t++)
			ok &= parse(index, o, h, o.targets[t], per_target[t]);
		if (!ok)
			continue;
		int header_diffs = 0;
		for (size_t t = 1; t < o.targets.size(); t++)
			header_diffs += compare(h, o.targets[0], per_target[0], o.targets[t], per_target[t]);
		diffs += header_diffs;
		if (o.verbose && !header_diffs)
			printf("%s: %zu records, same layout for %zu targets\n", h.c_str(), per_target[0].size(),
			       o.targets.size());
	}
	clang_disposeIndex(index);
	if (diffs)
		fprintf(stderr, "compel-layout: %d layout difference%s: a host and a blob would not agree\n",
			diffs, diffs == 1 ? "" : "s");
	return ok && !diffs ? 0 : 1;
}
