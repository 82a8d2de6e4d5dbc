// eventfd: its counter and whether it counts as a semaphore.
#include <sys/eventfd.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;

FileEntry *dump_eventfd(DumpedFd &d)
{
	EventfdEntry e = EVENTFD_ENTRY__INIT;
	e.flags = d.flags;
	e.counter = d.info.eventfd_count;
	e.semaphore = d.info.eventfd_semaphore;
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__EVENTFD;
	f.eventfd = d.c.arena.make(e);
	return d.c.arena.make(f);
}

namespace {

class EventFd : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const EventfdEntry &e = *entry.eventfd;
		int flags = EFD_CLOEXEC | (e.semaphore ? EFD_SEMAPHORE : 0) | int(e.flags & EFD_NONBLOCK);
		UniqueFd made(eventfd(0, flags));
		if (!made)
			throw Error("cannot make an eventfd", errno);
		// The counter is 64-bit; eventfd() takes 32 bits of it.
		if (e.counter && write(made.get(), &e.counter, sizeof(e.counter)) != sizeof(e.counter))
			throw Error(compel::format("cannot set the eventfd's counter to %llu", (unsigned long long)e.counter),
				    errno);
		set_status_flags(made.get(), e.flags);
		engine.hand_out(*this, engine.park(made.release()));
		return Step::Done;
	}
};

} // namespace

std::unique_ptr<FileDesc> eventfd_desc(const FileEntry &e) { return std::make_unique<EventFd>(e); }

} // namespace criu
