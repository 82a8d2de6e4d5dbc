#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <protobuf-c/protobuf-c.h>

namespace criu {

// The kinds of image files, each with its magic and the protobuf message
// its entries are (ImageKinds.cpp).
enum class ImageKind {
	Inventory,
	Pstree,
	Core,
	Mm,
	Pagemap,
	Files,
	Fdinfo,
	Fs,
	Pages, // raw pages, no header
	Ghost, // raw contents of a deleted file, no header
	Memfd, // raw contents of a memfd, no header
	Stats,
};

struct ImageKindInfo {
	ImageKind kind;
	const char *name;                          // "core": file names are "core.img" or "core-<id>.img"
	uint32_t magic;                            // after the common magic; 0 for raw images
	const ProtobufCMessageDescriptor *head;    // a first, different entry, if any
	const ProtobufCMessageDescriptor *entry;   // nullptr for raw images
};

const ImageKindInfo &image_kind(ImageKind kind);
// The kind whose file names start with `name` ("core-12.img" -> core), or nullptr.
const ImageKindInfo *image_kind_of_file(const std::string &file_name);
const ImageKindInfo *image_kind_by_magic(uint32_t magic);

// Every image file starts with this, then the kind's magic, then the
// format version.  Entries follow, each a 32-bit little-endian length and
// that many bytes of protobuf.
inline constexpr uint32_t kImageMagic = 0x474e5243; // "CRNG"
inline constexpr uint32_t kFormatVersion = 1;

struct ProtobufFree {
	void operator()(ProtobufCMessage *m) const { protobuf_c_message_free_unpacked(m, nullptr); }
};
// An unpacked message, freed with protobuf-c's allocator.
template <typename T> struct Unpacked {
	std::unique_ptr<ProtobufCMessage, ProtobufFree> msg;
	T *operator->() const { return reinterpret_cast<T *>(msg.get()); }
	T &operator*() const { return *reinterpret_cast<T *>(msg.get()); }
	explicit operator bool() const { return bool(msg); }
};

// Writes one image file in a directory, atomically: to a temporary name,
// renamed into place by commit().
class ImageWriter {
public:
	ImageWriter(int dirfd, const std::string &dir, ImageKind kind, const std::string &file_name);
	~ImageWriter();
	ImageWriter(const ImageWriter &) = delete;
	ImageWriter &operator=(const ImageWriter &) = delete;

	void write(const ProtobufCMessage *m);
	void write_raw(const void *data, size_t len); // raw images
	int fd() const { return fd_; }
	void commit();

private:
	int dirfd_;
	std::string dir_, name_, tmp_;
	int fd_ = -1;
	std::string buf_;
};

// Reads one image file, refusing anything it does not understand with an
// Error that names the file and says why.
class ImageReader {
public:
	ImageReader(int dirfd, const std::string &dir, ImageKind kind, const std::string &file_name);
	~ImageReader();
	ImageReader(const ImageReader &) = delete;
	ImageReader &operator=(const ImageReader &) = delete;

	// The next entry as `descriptor` describes it; empty at the end.  Its
	// enum fields hold values their enums define.
	Unpacked<ProtobufCMessage> next(const ProtobufCMessageDescriptor *descriptor);
	template <typename T> Unpacked<T> next(const ProtobufCMessageDescriptor *descriptor)
	{
		return {next(descriptor).msg};
	}
	// Like next(), but an entry must be there.
	template <typename T> Unpacked<T> expect(const ProtobufCMessageDescriptor *descriptor)
	{
		Unpacked<T> m{next(descriptor).msg};
		if (!m)
			fail(std::string("has no ") + descriptor->name + " entry");
		return m;
	}

	const std::string &path() const { return path_; }
	int fd() const { return fd_; }
	[[noreturn]] void fail(const std::string &why) const;

private:
	void read_header(ImageKind kind);

	std::string path_;
	int fd_ = -1;
	unsigned entries_ = 0;
	uint64_t size_ = 0, pos_ = 0; // of the file when opened, and where next() is
};

// Where a raw image file starts, for readers of raw images (pages).
int open_raw_image(int dirfd, const std::string &dir, const std::string &file_name);

} // namespace criu
