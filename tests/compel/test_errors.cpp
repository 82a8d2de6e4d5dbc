// What libcompel says when it cannot do what it was asked.
#include <catch2/catch.hpp>

#include <compel/compel.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include "Victim.h"
#include "test-protocol.h"

using Catch::Matchers::Contains;

namespace {

std::string seize_error(pid_t pid, unsigned flags = 0)
{
	compel_task *t = nullptr;
	int rc = compel_seize(pid, flags, &t);
	CHECK(rc < 0);
	CHECK(t == nullptr);
	return compel_last_error();
}

} // namespace

TEST_CASE("seizing a pid that does not exist", "[errors]")
{
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, nullptr, 0);
	CHECK(seize_error(gone) == "pid " + std::to_string(gone) + " does not exist: No such process (ESRCH)");
	CHECK_THAT(seize_error(-4), Contains("pid -4: not a process id"));
}

TEST_CASE("seizing a kernel thread", "[errors]")
{
	CHECK_THAT(seize_error(2), Contains("pid 2 is a kernel thread"));
}

TEST_CASE("seizing a zombie", "[errors]")
{
	pid_t z = fork();
	if (z == 0)
		_exit(0);
	REQUIRE(wait_state(z, 'Z'));
	CHECK_THAT(seize_error(z), Contains("is a zombie"));
	waitpid(z, nullptr, 0);
}

TEST_CASE("seizing a task that is already traced", "[errors]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	auto task = compel::Task::seize(v.pid());
	CHECK(seize_error(v.pid()) ==
	      "pid " + std::to_string(v.pid()) + " is already traced by pid " + std::to_string(getpid()) +
		      ": Device or resource busy (EBUSY)");
}

TEST_CASE("seizing a thread id without COMPEL_SEIZE_ONE_THREAD", "[errors]")
{
	Victim v(victim_builds().front().path, "threads");
	v.expect_ready();
	pid_t tid = 0;
	{
		auto task = compel::Task::seize(v.pid());
		tid = task.threads().at(1);
	}
	CHECK_THAT(seize_error(tid), Contains("is a thread of process " + std::to_string(v.pid())));
	auto one = compel::Task::seize(tid, COMPEL_SEIZE_ONE_THREAD);
	CHECK(one.threads() == std::vector<pid_t>{tid});
}

TEST_CASE("a victim killed during the infection", "[errors]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	v.wait_sleeping();
	auto task = compel::Task::seize(v.pid());
	auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
	kill(v.pid(), SIGKILL);
	CHECK_THROWS_WITH(inf.call(TEST_CMD_IDS), Contains(": command 128: thread " + std::to_string(v.pid()) + " was killed by signal 9 (KILL)"));
}

// Run only where a victim of another arch can run at all (--foreign-victim).
TEST_CASE("a task of an arch this host cannot trace is refused", "[.foreign][errors]")
{
	REQUIRE(!foreign_victim.empty());
	Victim v(foreign_victim, "read");
	v.expect_ready();
	// A 32-bit tracer on an AArch64 kernel sees an AArch64 task through the
	// ARM view of its registers: as many bytes as an ARM task's.
	CHECK_THAT(seize_error(v.pid()), Contains("is of no arch this host can trace"));
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a blob without a build for the task's arch, or without an entry", "[errors]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "read");
	v.expect_ready();
	auto task = compel::Task::seize(v.pid());
	std::vector<const compel_blob_desc *> others;
	for (auto b = test_parasite(); *b; b++)
		if (compel_arch((*b)->arch) != task.arch())
			others.push_back(*b);
	others.push_back(nullptr);
	std::string arch = compel_arch_name(task.arch());
	CHECK_THROWS_WITH(task.infect(others.data()),
			  Contains("is an " + arch + " task, and the blob has no " + arch + " build"));

	const compel_blob_desc *mine = compel_blob_for_arch(test_parasite(), task.arch());
	REQUIRE(mine);

	compel_blob_desc no_entry = *mine;
	no_entry.nr_exports = 0;
	const compel_blob_desc *broken[] = {&no_entry, nullptr};
	CHECK_THROWS_WITH(task.infect(broken), Contains("has no parasite entry"));

	// Nothing of the failed attempts is left: a real infection works.
	auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
	CHECK(inf.call(TEST_CMD_IDS) == 0);
}

TEST_CASE("commands below COMPEL_CMD_USER are compel's", "[errors]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	auto task = compel::Task::seize(v.pid());
	auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
	CHECK_THROWS_WITH(inf.call(COMPEL_CMD_DAEMON), Contains("command 1 is one of compel's own"));
}
