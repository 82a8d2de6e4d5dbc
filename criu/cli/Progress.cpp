#include "Progress.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include "Stats.h"

namespace criu {

Progress::Progress(const char *what, uint64_t total_bytes, uint64_t quiet_us)
	: what_(what), total_(total_bytes), start_us_(monotonic_us()), quiet_us_(quiet_us), on_(wanted(total_bytes))
{
}

Progress::~Progress()
{
	if (drawn_)
		dprintf(STDERR_FILENO, "\r\033[K");
}

bool Progress::wanted(uint64_t total_bytes) { return total_bytes >= kThreshold && isatty(STDERR_FILENO); }

void Progress::update(uint64_t done_bytes)
{
	uint64_t now = monotonic_us();
	if (!on_ || now - start_us_ < quiet_us_ || (drawn_ && now - drawn_us_ < 100000))
		return;
	done_bytes = std::min(done_bytes, total_);
	dprintf(STDERR_FILENO, "\rcriu: %s: %llu of %llu MiB (%llu%%)\033[K", what_, (unsigned long long)(done_bytes >> 20),
		(unsigned long long)(total_ >> 20), (unsigned long long)(done_bytes * 100 / total_));
	drawn_ = true;
	drawn_us_ = now;
}

} // namespace criu
