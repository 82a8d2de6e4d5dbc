// compel's latency and bandwidth, measured against a live victim:
//   cycle         seize + infect + one command + cure + detach
//   seize/detach  alone
//   syscall       one remote syscall (getpid)
//   sync call     one command through ptrace
//   daemon call   one command through the daemon loop
//   shared area   bytes per second through the argument area (host writes,
//                 the parasite reads every word)
// Each latency is the median (and 90th percentile) of many runs, once with
// the host and the victim free to run on any CPU and once sharing one.
#include <compel/compel.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "test-parasite.h"
#include "test-protocol.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
	double median_us, p90_us;
};

Stats measure(int runs, const std::function<void()> &f)
{
	for (int i = 0; i < runs / 10; i++)
		f();
	std::vector<double> us;
	for (int i = 0; i < runs; i++) {
		auto t0 = Clock::now();
		f();
		us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
	}
	std::sort(us.begin(), us.end());
	return {us[us.size() / 2], us[us.size() * 9 / 10]};
}

void row(const char *what, Stats s) { printf("  %-14s median %8.1f us   p90 %8.1f us\n", what, s.median_us, s.p90_us); }

pid_t spawn_victim()
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	usleep(20000);
	return pid;
}

void pin(pid_t pid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

void latencies(pid_t victim)
{
	row("cycle", measure(2000, [&] {
		auto task = compel::Task::seize(victim);
		auto inf = task.infect(test_parasite_blobs, {sizeof(test_args), 0});
		inf.call(TEST_CMD_MIX);
	}));
	row("seize/detach", measure(2000, [&] { compel::Task::seize(victim); }));

	auto task = compel::Task::seize(victim);
	row("syscall", measure(5000, [&] { task.syscall(COMPEL_SYS_getpid, {}); }));
	auto inf = task.infect(test_parasite_blobs, {sizeof(test_args), 0});
	row("sync call", measure(5000, [&] { inf.call(TEST_CMD_MIX); }));
	inf.daemon_start();
	row("daemon call", measure(20000, [&] { inf.call(TEST_CMD_MIX); }));
}

void bandwidth(pid_t victim)
{
	const size_t size = 256 << 20;
	auto task = compel::Task::seize(victim);
	auto inf = task.infect(test_parasite_blobs, {size, 0});
	inf.daemon_start();
	char *area = inf.args<char>();
	std::vector<double> secs;
	for (int i = 0; i < 5; i++) {
		auto t0 = Clock::now();
		std::memset(area + sizeof(test_args), i, size - sizeof(test_args));
		inf.call(TEST_CMD_SUM);
		secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
	}
	std::sort(secs.begin(), secs.end());
	printf("  shared area    %.2f GiB/s (host writes and parasite reads %zu MiB, median of 5)\n",
	       double(size) / secs[2] / (1 << 30), size >> 20);
}

} // namespace

int main()
{
	pid_t victim = spawn_victim();
	try {
		printf("compel, %s victim:\n", "x86_64");
		printf(" host and victim on any CPU:\n");
		latencies(victim);
		printf(" host and victim on one CPU:\n");
		pin(getpid(), 0);
		pin(victim, 0);
		latencies(victim);
		printf(" bandwidth:\n");
		cpu_set_t all;
		CPU_ZERO(&all);
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &all);
		sched_setaffinity(0, sizeof(all), &all);
		sched_setaffinity(victim, sizeof(all), &all);
		bandwidth(victim);
	} catch (const compel::Error &e) {
		fprintf(stderr, "compel-bench: %s\n", e.what());
		kill(victim, SIGKILL);
		return 1;
	}
	kill(victim, SIGKILL);
	waitpid(victim, nullptr, 0);
	return 0;
}
