#pragma once

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

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

// Every register of every thread of a process the calling thread traces
// (general and xsave state), as raw regset bytes.
using AllRegs = std::map<pid_t, std::pair<std::vector<uint8_t>, std::vector<uint8_t>>>;
AllRegs registers_of(const std::vector<pid_t> &tids);

// Waits up to a second for process pid to be in state (R, S, T...).
bool wait_state(pid_t pid, char state);

// Path of a victim build: the 64-bit or the 32-bit one.
std::string victim_path(bool bits32);
