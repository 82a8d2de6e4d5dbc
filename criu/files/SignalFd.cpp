// signalfd: the signals it reads.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;

FileEntry *dump_signalfd(DumpedFd &d)
{
	SignalfdEntry s = SIGNALFD_ENTRY__INIT;
	s.flags = d.flags;
	s.sigmask = d.info.sigmask;
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__SIGNALFD;
	f.signalfd = d.c.arena.make(s);
	return d.c.arena.make(f);
}

namespace {

class SignalFd : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const SignalfdEntry &s = *entry.signalfd;
		// The kernel's mask, 64 bits, as fdinfo showed it.
		uint64_t mask = s.sigmask;
		int made = int(syscall(SYS_signalfd4, -1, &mask, sizeof(mask), SFD_CLOEXEC | int(s.flags & SFD_NONBLOCK)));
		if (made < 0)
			throw Error(compel::format("cannot make a signalfd of the signals %016llx", (unsigned long long)mask),
				    errno);
		engine.hand_out(*this, engine.park(made));
		return Step::Done;
	}
};

} // namespace

std::unique_ptr<FileDesc> signalfd_desc(const FileEntry &e) { return std::make_unique<SignalFd>(e); }

} // namespace criu
