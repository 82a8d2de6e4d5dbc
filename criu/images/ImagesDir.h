#pragma once

#include <string>

namespace criu {

// The images directory: opened once, and everything in it is reached
// relative to it.
class ImagesDir {
public:
	ImagesDir(const std::string &path, bool create);
	// The directory already open as fd, which stays its owner's.
	ImagesDir(int fd, const std::string &path) : path_(path), fd_(fd), owned_(false) {}
	~ImagesDir();
	ImagesDir(const ImagesDir &) = delete;
	ImagesDir &operator=(const ImagesDir &) = delete;

	int fd() const { return fd_; }
	const std::string &path() const { return path_; }
	bool exists(const std::string &name) const;
	// Removes name if it exists (dump cleans up after a failure).
	void remove(const std::string &name) const;

private:
	std::string path_;
	int fd_ = -1;
	bool owned_ = true;
};

} // namespace criu
