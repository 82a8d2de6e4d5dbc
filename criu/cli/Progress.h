#pragma once

#include <cstdint>

namespace criu {

// Long work on a terminal: a line on stderr that says how many of the
// total bytes are done, redrawn at most ten times a second and cleared at
// the end.  Nothing when stderr is no terminal, for less than 64 MiB, or
// for work done within quiet_us.
class Progress {
public:
	Progress(const char *what, uint64_t total_bytes, uint64_t quiet_us = 250000);
	~Progress();
	Progress(const Progress &) = delete;
	Progress &operator=(const Progress &) = delete;

	// Whether anything is shown: the total is worth counting only then.
	static bool wanted(uint64_t total_bytes = kThreshold);
	void update(uint64_t done_bytes);

private:
	static constexpr uint64_t kThreshold = 64ull << 20;

	const char *what_;
	uint64_t total_, start_us_, quiet_us_, drawn_us_ = 0;
	bool on_, drawn_ = false;
};

} // namespace criu
