// timerfd: its clock, the time left, the interval and the expirations not
// read yet.
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

FileEntry *dump_timerfd(DumpedFd &d)
{
	TimerfdEntry t = TIMERFD_ENTRY__INIT;
	t.flags = d.flags;
	t.clockid = uint32_t(d.info.clockid);
	t.ticks = d.info.ticks;
	t.settime_flags = d.info.settime_flags;
	t.value_ns = d.info.value_ns;
	t.interval_ns = d.info.interval_ns;
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__TIMERFD;
	f.timerfd = d.c.arena.make(t);
	return d.c.arena.make(f);
}

namespace {

constexpr uint64_t kNs = 1000000000ull;
// <linux/timerfd.h>, which clashes with glibc's <sys/timerfd.h>.
constexpr unsigned long kSetTicks = _IOW('T', 0, uint64_t); // TFD_IOC_SET_TICKS

timespec ts(uint64_t ns) { return {time_t(ns / kNs), long(ns % kNs)}; }

class TimerFd : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const TimerfdEntry &t = *entry.timerfd;
		UniqueFd made(timerfd_create(clockid_t(t.clockid), TFD_CLOEXEC | int(t.flags & TFD_NONBLOCK)));
		if (!made)
			throw Error(format("cannot make a timerfd on clock %u", t.clockid), errno);
		// fdinfo shows the time left; an absolute timer (which may be
		// cancelled when the clock is set) is set to now plus that.
		uint64_t value = t.value_ns;
		if (value && (t.settime_flags & TFD_TIMER_ABSTIME)) {
			timespec now;
			if (clock_gettime(clockid_t(t.clockid), &now) != 0)
				throw Error(format("cannot read clock %u", t.clockid), errno);
			value += uint64_t(now.tv_sec) * kNs + uint64_t(now.tv_nsec);
		}
		itimerspec its = {ts(t.interval_ns), ts(value)};
		if (timerfd_settime(made.get(), value ? int(t.settime_flags) : 0, &its, nullptr) != 0)
			throw Error(format("cannot set the timerfd to %llu ns, every %llu ns", (unsigned long long)t.value_ns,
					   (unsigned long long)t.interval_ns),
				    errno);
		// After the setting, which clears them.
		uint64_t ticks = t.ticks;
		if (ticks && ioctl(made.get(), kSetTicks, &ticks) != 0)
			throw Error(format("cannot give the timerfd its %llu expirations (TFD_IOC_SET_TICKS)",
					   (unsigned long long)ticks),
				    errno);
		engine.hand_out(*this, engine.park(made.release()));
		return Step::Done;
	}
};

} // namespace

std::unique_ptr<FileDesc> timerfd_desc(const FileEntry &e) { return std::make_unique<TimerFd>(e); }

} // namespace criu
