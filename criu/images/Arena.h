#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace criu {

// Owns the memory that protobuf-c messages being written point into:
// sub-messages, arrays, strings and bytes live as long as the arena.
class Arena {
public:
	template <typename T> T *make(const T &init)
	{
		auto p = std::make_shared<T>(init);
		hold_.push_back(p);
		return p.get();
	}

	template <typename T> T *array(size_t n)
	{
		auto p = std::shared_ptr<T[]>(new T[n ? n : 1]());
		hold_.push_back(p);
		return p.get();
	}

	// An array of pointers to n copies of init, for repeated message fields.
	template <typename T> T **messages(size_t n, const T &init)
	{
		T **ptrs = array<T *>(n);
		for (size_t i = 0; i < n; i++)
			ptrs[i] = make(init);
		return ptrs;
	}

	char *str(const std::string &s)
	{
		char *p = array<char>(s.size() + 1);
		std::memcpy(p, s.c_str(), s.size() + 1);
		return p;
	}

	uint8_t *bytes(const void *data, size_t n)
	{
		auto *p = array<uint8_t>(n);
		std::memcpy(p, data, n);
		return p;
	}

private:
	std::vector<std::shared_ptr<void>> hold_;
};

} // namespace criu
