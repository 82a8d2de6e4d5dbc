#pragma once

#include <memory>
#include <sys/types.h>
#include <vector>

#include "Infection.h"
#include "Proc.h"
#include "Task.h"

namespace criu {

// One process of the dumped tree: seized, or a zombie (nothing to seize:
// only its ids and exit status are dumped).
struct TreeProcess {
	pid_t pid = 0;
	proc::Stat stat;     // read once the process is stopped
	proc::Status status;
	std::unique_ptr<compel::core::Task> task; // null for a zombie

	bool zombie() const { return !task; }
};

// The process tree under a root pid, every process and thread of it
// stopped: the root is seized first, then the children of every thread of
// every seized process, until a pass over all of them finds no new child (a
// stopped process forks no more, so that pass is complete).  Parents come
// before their children.  What criu cannot dump is refused before anything
// is read.  Destroying it lets every process go as it was.
class DumpTree {
public:
	explicit DumpTree(pid_t root);

	std::vector<TreeProcess> &processes() { return procs_; }

private:
	bool add_children(size_t parent);
	bool add(pid_t pid); // false: it has ended and is gone


	std::vector<TreeProcess> procs_;
};

} // namespace criu
