#pragma once

#include <sys/types.h>
#include <vector>

namespace criu {

// criu's own descriptors in the task it restores, kept just above the
// highest descriptor the process restores, so that placing its files never
// lands on them (the seed's "service descriptors").  Descriptors that are
// neither (files half-way through their restore) are parked above them.
class ServiceFds {
public:
	enum Slot { Status, Dir, Log, Exe, Count };

	explicit ServiceFds(int highest_target);

	// Moves copies of fds (one per slot, -1 for none) into their slots; the
	// originals stay, to be closed with everything criu leaves.
	std::vector<int> install(const std::vector<int> &fds);

	bool owns(int fd) const;
	// The guard: a restored descriptor never sits on a service descriptor.
	void check(int fd) const;
	// The guard after the fact: each service descriptor still refers to
	// what install() put there.
	void verify() const;
	// Where descriptors wait that are not in their place yet.
	int park_base() const { return base_ + Count; }

private:
	struct Installed {
		int fd;
		dev_t dev;
		ino_t ino;
	};
	int base_;
	std::vector<Installed> used_;
};

} // namespace criu
