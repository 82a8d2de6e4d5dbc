// fdspy PID FD: takes a copy of descriptor FD of process PID, through a
// parasite, and prints what can be read from it.  Uses the C++ layer.
#include <compel/compel.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "fdspy-parasite.h"
#include "fdspy.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: fdspy PID FD\n");
		return 2;
	}
	int fd = -1;
	try {
		auto task = compel::Task::seize(std::atoi(argv[1]));
		auto inf = task.infect(fdspy_parasite_blobs, {sizeof(fdspy_args), 0});
		inf.args<fdspy_args>()->fd = std::atoi(argv[2]);
		if (int ret = inf.call(FDSPY_CMD); ret < 0) {
			std::fprintf(stderr, "fdspy: the parasite failed with error %d\n", -ret);
			return 1;
		}
		inf.recv_fds(&fd, 1);
	} catch (const compel::Error &e) { // the infection and the task undo themselves
		std::fprintf(stderr, "fdspy: %s\n", e.what());
		return 1;
	}
	std::string data;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		data.append(buf, size_t(n));
	close(fd);
	std::printf("fd %s of pid %s: %s\n", argv[2], argv[1], data.c_str());
	return 0;
}
