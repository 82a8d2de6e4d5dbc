#pragma once

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include <compel/compel.hpp>

// A victim process (victims/victim.c) running one scenario, with its
// command and report pipes.  The destructor kills and reaps it.
class Victim {
public:
	Victim(const std::string &exe, const std::string &scenario);
	~Victim();
	Victim(const Victim &) = delete;
	Victim &operator=(const Victim &) = delete;

	pid_t pid() const { return pid_; }
	int ctl_fd() const { return ctl_; }

	// The next line the victim reports; fails the test after a timeout.
	std::string line(int timeout_ms = 10000);
	void expect_ready();
	// Waits until the victim's leader sleeps (in a blocking syscall).
	void wait_sleeping();
	void go();
	// Its last report line, once it has exited.
	std::string verdict();

private:
	pid_t pid_ = -1;
	int ctl_ = -1, rep_ = -1;
	std::string buf_;
};

// What can be seen of a process from outside, without tracing it: its
// memory map, its descriptors (targets and fdinfo flags and position) and
// the signal state of each thread.
struct Outside {
	std::string maps;
	std::map<std::string, std::string> fds;
	std::map<pid_t, std::string> signals;
	bool operator==(const Outside &) const = default;
};
Outside look_at(pid_t pid);
std::string diff(const Outside &a, const Outside &b);

// Where a task arch keeps its FPU and vector registers: the regset compel
// saves, and the bytes of the vector registers in it.
struct VectorRegs {
	unsigned regset;
	size_t offset, size;
};
VectorRegs vector_regs(compel_arch arch);

// Every register of every thread of a seized task (general and FPU/vector
// state), as raw regset bytes.
using AllRegs = std::map<pid_t, std::pair<std::vector<uint8_t>, std::vector<uint8_t>>>;
AllRegs registers_of(const compel::Task &task);

// Waits up to a second for process pid to be in state (R, S, T...).
bool wait_state(pid_t pid, char state);

// A build of victims/victim.c: "x86_64" and "i386" on an x86-64 host;
// "aarch64", "arm" and "thumb" (ARM and Thumb-2 code, which an AArch64 host
// traces as compat tasks) on ARM hosts.
struct VictimBuild {
	std::string name;
	std::string path;
};

// The builds this run infects: all of the host's, its own arch first, or
// those that --victims chose, in that order.
const std::vector<VictimBuild> &victim_builds();
bool choose_victims(const std::string &names); // false: an unknown name

// A victim build of an arch that the host cannot trace, if --foreign-victim
// gave one: an AArch64 one for a 32-bit ARM host on an AArch64 kernel.
extern std::string foreign_victim;

// The test parasite's builds, for Task::infect(): the one --parasite chose
// (arm or thumb) first, where two builds are for one task arch.
const compel_blob_desc *const *test_parasite();
bool choose_parasite(const std::string &name); // false: no such build

// The blob arch name of a build of the test parasite: "thumb" for
// test_parasite_thumb_blob.
std::string blob_arch_name(const compel_blob_desc &blob);
