#pragma once

#include <cstdint>
#include <ctime>

#include "ImagesDir.h"
#include "stats.pb-c.h"

namespace criu {

inline uint64_t monotonic_us()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return uint64_t(t.tv_sec) * 1000000 + uint64_t(t.tv_nsec) / 1000;
}

// Writes stats-dump.img or stats-restore.img.  Statistics are not worth
// failing a dump or restore that is done: a failure is only logged.
void write_stats(const ImagesDir &dir, const StatsEntry &stats);

} // namespace criu
