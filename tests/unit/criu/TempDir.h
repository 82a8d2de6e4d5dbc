#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

// A directory of its own for one test, removed with everything in it.
class TempDir {
public:
	TempDir()
	{
		char tmpl[] = "/tmp/criu-unit.XXXXXX";
		path_ = mkdtemp(tmpl);
	}
	~TempDir() { std::filesystem::remove_all(path_); }
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::string &path() const { return path_; }
	std::string file(const std::string &name, const std::string &contents) const
	{
		std::string p = path_ + "/" + name;
		std::filesystem::create_directories(std::filesystem::path(p).parent_path());
		std::ofstream(p, std::ios::binary) << contents;
		return p;
	}

private:
	std::string path_;
};
