#pragma once

#include <string>
#include <vector>

#include "files.pb-c.h"

namespace criu {

class FdinfoEngine;

// What an open step answers: the file is restored, or the step must run
// again (it waits for another file).  A failure throws compel::Error.
enum class Step { Done, NotYet };

// One open file of files.img and the descriptors of the task that refer to
// it: the first (lowest) is the master, the others its slaves.  Each file
// type implements open(); the engine runs it until it answers Done.  As
// soon as it has a descriptor, open() hands it out (FdinfoEngine::hand_out)
// even if the file is not fully restored yet: the slaves get it then, and
// files that only need it to exist can go on.
//
// When tasks share files, the master's task hands out the descriptor as
// now, and the engine sends it over SCM_RIGHTS to the tasks holding slaves;
// there, the file is one whose open step waits until it has arrived.
class FileDesc {
public:
	explicit FileDesc(const FileEntry &e) : entry(e) {}
	virtual ~FileDesc() = default;
	FileDesc(const FileDesc &) = delete;
	FileDesc &operator=(const FileDesc &) = delete;

	virtual Step open(FdinfoEngine &engine) = 0;
	// What open() waits for, when it answers NotYet: for the error when no
	// file can go on.
	virtual std::string waits_for() const { return "nothing"; }

	const FileEntry &entry;
	std::vector<const FdinfoEntry *> fles; // the master first
	int fd = -1;                           // the master's, once handed out
	bool done = false;
};

} // namespace criu
