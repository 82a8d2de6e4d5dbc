#include "Image.h"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kFlushAt = 1 << 20;
// Entries larger than this are corruption, not data (xsave areas, maps and
// siginfo lists are far smaller).
constexpr uint32_t kMaxEntry = 64 << 20;

void put32(std::string &buf, uint32_t v)
{
	uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
	buf.append(reinterpret_cast<char *>(b), 4);
}

uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }

void write_all(int fd, const char *p, size_t n, const std::string &path)
{
	while (n) {
		ssize_t w = ::write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			throw Error("cannot write " + path, w < 0 ? errno : EIO);
		p += w, n -= size_t(w);
	}
}

// The first enum field of m or of its sub-messages that holds a number its
// enum does not define, described; empty if none.  protobuf-c keeps any
// number the wire has, and C++ code may not even load some of them.
std::string undefined_enum(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = reinterpret_cast<const char *>(m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor &f = d->fields[i];
		if (f.type != PROTOBUF_C_TYPE_ENUM && f.type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *reinterpret_cast<const uint32_t *>(base + f.quantifier_offset) != f.id)
			continue; // another member of the oneof holds the storage
		const char *at = base + f.offset;
		size_t n = 1;
		if (f.label == PROTOBUF_C_LABEL_REPEATED) {
			n = *reinterpret_cast<const size_t *>(base + f.quantifier_offset);
			at = *reinterpret_cast<const char *const *>(at);
		} else if (f.label == PROTOBUF_C_LABEL_OPTIONAL && f.type == PROTOBUF_C_TYPE_ENUM) {
			n = *reinterpret_cast<const protobuf_c_boolean *>(base + f.quantifier_offset) ? 1 : 0;
		}
		for (size_t k = 0; k < n; k++) {
			if (f.type == PROTOBUF_C_TYPE_ENUM) {
				int v = reinterpret_cast<const int *>(at)[k];
				auto *e = static_cast<const ProtobufCEnumDescriptor *>(f.descriptor);
				if (!protobuf_c_enum_descriptor_get_value(e, v))
					return format("%s.%s is %d, which %s does not define", d->name, f.name, v, e->name);
			} else if (auto *sub = reinterpret_cast<const ProtobufCMessage *const *>(at)[k]) {
				std::string bad = undefined_enum(sub);
				if (!bad.empty())
					return bad;
			}
		}
	}
	return {};
}

} // namespace

ImageWriter::ImageWriter(int dirfd, const std::string &dir, ImageKind kind, const std::string &file_name)
	: dirfd_(dirfd), dir_(dir), name_(file_name), tmp_("." + file_name + ".tmp")
{
	fd_ = openat(dirfd_, tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd_ < 0)
		throw Error("cannot create " + dir_ + "/" + tmp_, errno);
	const ImageKindInfo &k = image_kind(kind);
	if (k.magic) {
		put32(buf_, kImageMagic);
		put32(buf_, k.magic);
		put32(buf_, kFormatVersion);
	}
}

ImageWriter::~ImageWriter()
{
	if (fd_ >= 0) { // not committed: leave nothing half-written behind
		close(fd_);
		unlinkat(dirfd_, tmp_.c_str(), 0);
	}
}

void ImageWriter::write(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	put32(buf_, uint32_t(len));
	size_t at = buf_.size();
	buf_.resize(at + len);
	protobuf_c_message_pack(m, reinterpret_cast<uint8_t *>(buf_.data() + at));
	if (buf_.size() >= kFlushAt) {
		write_all(fd_, buf_.data(), buf_.size(), dir_ + "/" + name_);
		buf_.clear();
	}
}

void ImageWriter::write_raw(const void *data, size_t len)
{
	if (!buf_.empty()) {
		write_all(fd_, buf_.data(), buf_.size(), dir_ + "/" + name_);
		buf_.clear();
	}
	write_all(fd_, static_cast<const char *>(data), len, dir_ + "/" + name_);
}

void ImageWriter::commit()
{
	write_all(fd_, buf_.data(), buf_.size(), dir_ + "/" + name_);
	buf_.clear();
	if (close(fd_) != 0) {
		int err = errno;
		fd_ = -1;
		unlinkat(dirfd_, tmp_.c_str(), 0);
		throw Error("cannot write " + dir_ + "/" + name_, err);
	}
	fd_ = -1;
	if (renameat(dirfd_, tmp_.c_str(), dirfd_, name_.c_str()) != 0) {
		int err = errno;
		unlinkat(dirfd_, tmp_.c_str(), 0); // nothing half-made stays
		throw Error("cannot create " + dir_ + "/" + name_, err);
	}
}

ImageReader::ImageReader(int dirfd, const std::string &dir, ImageKind kind, const std::string &file_name)
	: path_(dir + "/" + file_name)
{
	// Not blocking: a FIFO or a device there must not hang criu.
	fd_ = openat(dirfd, file_name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd_ < 0)
		throw Error("cannot open " + path_, errno);
	// The destructor does not run when the constructor throws.
	try {
		read_header(kind);
	} catch (...) {
		close(fd_);
		throw;
	}
}

void ImageReader::read_header(ImageKind kind)
{
	struct stat st;
	if (fstat(fd_, &st) != 0)
		fail("cannot stat it");
	if (!S_ISREG(st.st_mode))
		fail("is not a regular file");
	size_ = uint64_t(st.st_size);
	uint8_t h[kHeaderSize];
	ssize_t n = pread(fd_, h, sizeof(h), 0);
	if (n != ssize_t(sizeof(h)))
		fail(n < 0 ? "cannot read its header" : format("is truncated: %zd bytes, not even a header", n));
	const ImageKindInfo &want = image_kind(kind);
	if (get32(h) != kImageMagic)
		fail(format("is not an image of this tool (magic 0x%08x)", get32(h)));
	if (get32(h + 4) != want.magic) {
		const ImageKindInfo *got = image_kind_by_magic(get32(h + 4));
		fail(got ? format("is a %s image where a %s image was expected", got->name, want.name)
			 : format("has an unknown image kind 0x%08x", get32(h + 4)));
	}
	if (get32(h + 8) != kFormatVersion)
		fail(format("has format version %u; this criu reads version %u", get32(h + 8), kFormatVersion));
	pos_ = kHeaderSize;
	lseek(fd_, kHeaderSize, SEEK_SET);
}

ImageReader::~ImageReader()
{
	if (fd_ >= 0)
		close(fd_);
}

void ImageReader::fail(const std::string &why) const { throw Error::described(path_ + ": " + why, EINVAL); }

Unpacked<ProtobufCMessage> ImageReader::next(const ProtobufCMessageDescriptor *descriptor)
{
	uint8_t lenbuf[4];
	ssize_t n = read(fd_, lenbuf, 4);
	if (n == 0)
		return {};
	unsigned index = ++entries_;
	if (n != 4)
		fail(format("entry %u is truncated: %zd of the 4 bytes of its length", index, n));
	pos_ += 4;
	uint32_t len = get32(lenbuf);
	if (len > kMaxEntry)
		fail(format("entry %u claims %u bytes: corrupt", index, len));
	// Before allocating them: a corrupt length must not cost memory.
	uint64_t left = size_ > pos_ ? size_ - pos_ : 0;
	if (len > left)
		fail(format("entry %u is truncated: it claims %u bytes, the file has %llu more", index, len,
			    (unsigned long long)left));
	std::string data(len, '\0');
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd_, data.data() + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail(format("entry %u is truncated: %zu of its %u bytes", index, got, len));
		got += size_t(r);
	}
	pos_ += len;
	ProtobufCMessage *m =
		protobuf_c_message_unpack(descriptor, nullptr, len, reinterpret_cast<const uint8_t *>(data.data()));
	if (!m)
		fail(format("entry %u does not decode as %s (corrupt)", index, descriptor->name));
	std::unique_ptr<ProtobufCMessage, ProtobufFree> owned(m);
	std::string bad = undefined_enum(m);
	if (!bad.empty())
		fail(format("entry %u does not decode as %s: %s", index, descriptor->name, bad.c_str()));
	return {std::move(owned)};
}

int open_raw_image(int dirfd, const std::string &dir, const std::string &file_name)
{
	int fd = openat(dirfd, file_name.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw Error("cannot open " + dir + "/" + file_name, errno);
	return fd;
}

} // namespace criu
