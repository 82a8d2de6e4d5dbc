#pragma once

#include <cstdint>
#include <sys/ioctl.h>

namespace criu::proc {

// PAGEMAP_SCAN on /proc/PID/pagemap (Linux 6.7; Debian 12's headers
// predate it): the ranges of pages of given categories, walking only the
// page tables that exist.
struct PmScanArg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct PageRegion {
	uint64_t start, end, categories;
};
inline constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
inline constexpr uint64_t kPageIsFile = 1 << 2; // page cache or shared memory, not a private copy
inline constexpr uint64_t kPageIsPresent = 1 << 3;
inline constexpr uint64_t kPageIsSwapped = 1 << 4;
inline constexpr uint64_t kPageIsPfnZero = 1 << 5; // the shared zero page

} // namespace criu::proc
