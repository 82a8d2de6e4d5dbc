#include "Log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include <compel/error.hpp>

namespace criu {

namespace {

int level = 2;
int fd = -1;
timespec monotonic_now()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

// Log times count from the start of the program, not of log_setup(): an
// error in parsing the options is logged too.
const timespec start = monotonic_now();

} // namespace

void log_setup(int verbosity, const std::string &path)
{
	level = verbosity;
	if (path.empty())
		return;
	fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
	if (fd < 0)
		throw compel::Error("cannot open log file " + path, errno);
}

bool log_enabled(LogLevel l) { return int(l) <= level; }

int log_fd() { return fd; }

void log_relocate(int to) { fd = to; }

void log_msg(LogLevel l, const char *fmt, ...)
{
	if (!log_enabled(l))
		return;
	static const char *const prefix[] = {"", "Error", "Warn", "Info", "Debug"};
	const timespec now = monotonic_now();
	double t = double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) / 1e9;
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "(%9.6f) %s: ", t, prefix[int(l)]);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - size_t(n) - 1, fmt, ap);
	va_end(ap);
	if (n > int(sizeof(buf)) - 2)
		n = int(sizeof(buf)) - 2;
	buf[n++] = '\n';
	// A log that cannot be written has nowhere to say so.
	[[maybe_unused]] ssize_t r = write(fd >= 0 ? fd : STDERR_FILENO, buf, size_t(n));
}

} // namespace criu
