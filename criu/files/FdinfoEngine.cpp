#include "FdinfoEngine.h"

#include <fcntl.h>
#include <unistd.h>
#include <utility>

#include <compel/error.hpp>

#include "FileTypes.h"
#include "Log.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

std::string describe(const FileDesc &f)
{
	const char *type = protobuf_c_enum_descriptor_get_value(&file_entry__type_t__descriptor, f.entry.type)->name;
	// Without descriptors: in flight in a unix socket, or made by criu for
	// the processes that share it.
	if (f.fles.empty())
		return format("file %u (%s, without a descriptor here)", f.entry.id, type);
	return format("fd %u (file %u, %s)", f.fles.front()->fd, f.entry.id, type);
}

} // namespace

void FdinfoEngine::add(std::unique_ptr<FileDesc> file, std::vector<const FdinfoEntry *> fles)
{
	file->fles = std::move(fles);
	for (const FdinfoEntry *fle : file->fles)
		by_fd_[int(fle->fd)] = file.get();
	by_id_[file->entry.id] = file.get();
	files_.push_back(std::move(file));
}

FileDesc *FdinfoEngine::file_by_id(uint32_t id) const
{
	auto it = by_id_.find(id);
	return it == by_id_.end() ? nullptr : it->second;
}

FileDesc *FdinfoEngine::file_at(int fd) const
{
	auto it = by_fd_.find(fd);
	return it == by_fd_.end() ? nullptr : it->second;
}

int FdinfoEngine::park(int fd) const
{
	int to = fcntl(fd, F_DUPFD_CLOEXEC, sfd_.park_base());
	int err = errno;
	close(fd);
	if (to < 0)
		throw Error(format("cannot move descriptor %d above %d", fd, sfd_.park_base()), err);
	return to;
}

void FdinfoEngine::hand_out(FileDesc &file, int fd)
{
	if (file.fles.empty()) { // in flight only: parked until the end
		file.fd = fd;
		return;
	}
	for (const FdinfoEntry *fle : file.fles) {
		int to = int(fle->fd);
		sfd_.check(to);
		if (dup3(fd, to, fle->cloexec ? O_CLOEXEC : 0) < 0)
			throw Error(format("cannot put %s on fd %d", describe(file).c_str(), to), errno);
	}
	close(fd);
	file.fd = int(file.fles.front()->fd);
}

void FdinfoEngine::in_place(FileDesc &file)
{
	for (const FdinfoEntry *fle : file.fles)
		if (fcntl(int(fle->fd), F_SETFD, fle->cloexec ? FD_CLOEXEC : 0) < 0)
			throw Error(format("fd %u is not open", fle->fd), errno);
	file.fd = int(file.fles.front()->fd);
}

// What belongs to the open file whatever its type: its owner for SIGIO,
// and O_ASYNC, set on the master's own number (which the signals name);
// the locks held through it.  The owner and the locks of a file made for
// processes are set by each of them, when it receives it.
void FdinfoEngine::finish(FileDesc &file)
{
	file.done = true;
	if (file.entry.fown && !for_processes_) {
		const FownEntry &o = *file.entry.fown;
		f_owner_ex owner = {__pid_type(o.type), pid_t(o.pid)};
		if ((o.pid && fcntl(file.fd, F_SETOWN_EX, &owner) < 0) ||
		    (o.signum && fcntl(file.fd, F_SETSIG, int(o.signum)) < 0))
			throw Error(format("%s: cannot set its owner to %u and signal to %u", describe(file).c_str(), o.pid,
					   o.signum),
				    errno);
	}
	int flags = fcntl(file.fd, F_GETFL);
	if ((status_flags(file.entry) & O_ASYNC) && (flags < 0 || fcntl(file.fd, F_SETFL, flags | O_ASYNC) < 0))
		throw Error(format("%s: cannot set O_ASYNC", describe(file).c_str()), errno);
	try {
		if (!for_processes_)
			take_locks(file.entry, file.fd);
	} catch (const Error &e) {
		throw e.with_context(describe(file));
	}
}

void FdinfoEngine::run()
{
	for (size_t left = files_.size(); left;) {
		bool moved = false;
		for (auto &f : files_) {
			if (f->done)
				continue;
			bool had_fd = f->fd >= 0;
			Step s;
			try {
				s = f->open(*this);
			} catch (const Error &e) {
				throw e.with_context(describe(*f));
			}
			if (s == Step::Done && f->fd < 0)
				throw Error(format("internal: %s is restored but has no descriptor", describe(*f).c_str()), EINVAL);
			if (s == Step::Done) {
				finish(*f);
				left--;
				LOG_DEBUG("%s: restored", describe(*f).c_str());
			}
			moved |= s == Step::Done || had_fd != (f->fd >= 0);
		}
		sfd_.verify();
		if (left && !moved) {
			std::string msg = "these files wait for each other:";
			for (auto &f : files_)
				if (!f->done)
					msg += format(" %s waits for %s;", describe(*f).c_str(), f->waits_for().c_str());
			msg.pop_back();
			throw Error(msg, EDEADLK);
		}
	}
}

void FdinfoEngine::close_unplaced()
{
	for (auto &f : files_)
		if (f->fles.empty() && f->fd >= 0)
			close(std::exchange(f->fd, -1));
}

} // namespace criu
