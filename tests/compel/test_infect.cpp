// Infect real processes in every state the issue lists, cure them, and
// check from outside and from inside that nothing changed.
#include <catch2/catch.hpp>

#include <compel/compel.hpp>

#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <sstream>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "Victim.h"
#include "test-protocol.h"

using Catch::Matchers::Contains;

namespace {

using During = std::function<void(compel::Task &, compel::Infection &)>;

// Seizes the victim, infects it, runs commands, cures and detaches it, and
// checks that its registers and everything visible from outside are as
// before.
void infect_and_cure(Victim &v, compel_task_state expect, const During &during = {})
{
	Outside before = look_at(v.pid());
	{
		auto task = compel::Task::seize(v.pid());
		CHECK(task.thread_info().state == expect);
		AllRegs regs = registers_of(task);
		{
			auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
			CHECK_THAT(look_at(v.pid()).maps, Contains("/memfd:compel (deleted)"));
			auto *a = inf.args<test_args>();
			REQUIRE(inf.call(TEST_CMD_IDS) == 0);
			CHECK(a->pid == v.pid());
			CHECK(a->tid == v.pid());
			CHECK(a->uid == getuid());
			a->in = 0x1234567;
			REQUIRE(inf.call(TEST_CMD_MIX) == 0);
			CHECK(a->out == test_mix(0x1234567));
			if (during)
				during(task, inf);
			inf.cure();
		}
		CHECK(registers_of(task) == regs);
		task.detach();
	}
	Outside after = look_at(v.pid());
	INFO(diff(before, after));
	CHECK(after == before);
}

} // namespace

TEST_CASE("a victim blocked in read() resumes its read", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "read");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim in nanosleep() sleeps its full time", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "nanosleep");
	v.expect_ready();
	v.wait_sleeping();
	// Past half of the second: a restart with the whole second again would
	// make it sleep longer than the victim accepts.
	usleep(600000);
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim waiting on a futex is woken as before", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "futex");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim spinning in user code computes on", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "spin");
	v.expect_ready();
	infect_and_cure(v, COMPEL_TASK_RUNNING);
	kill(v.pid(), SIGUSR1);
	v.go();
	CHECK_THAT(v.verdict(), Contains("PASS"));
}

TEST_CASE("vector registers come back even if the parasite clobbers them", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "vector");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL, [&](compel::Task &task, compel::Infection &) {
		// Do what a careless parasite would: overwrite the vector registers.
		VectorRegs vr = vector_regs(task.arch());
		std::vector<uint8_t> fp(16384);
		iovec iov = {fp.data(), fp.size()};
		REQUIRE(ptrace(PTRACE_GETREGSET, v.pid(), reinterpret_cast<void *>(uintptr_t(vr.regset)), &iov) == 0);
		REQUIRE(iov.iov_len >= vr.offset + vr.size);
		std::memset(fp.data() + vr.offset, 0x55, vr.size);
		REQUIRE(ptrace(PTRACE_SETREGSET, v.pid(), reinterpret_cast<void *>(uintptr_t(vr.regset)), &iov) == 0);
	});
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("blocked and pending signals, handlers and ignored signals stay", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "signals");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("an ignored SIGTRAP stays ignored", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "ignored-trap");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("every thread of a multi-threaded victim is frozen and goes on", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "threads");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL, [&](compel::Task &task, compel::Infection &) {
		CHECK(task.threads().size() == 4);
		for (pid_t tid : task.threads())
			CHECK(task.thread_info(tid).tid == tid);
	});
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim under a seccomp filter is infected all the same", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Victim v(vb.path, "seccomp");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim without a vDSO is infected through a syscall instruction of its own", "[infect]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	// ia32 programs make every syscall through the vDSO (AT_SYSINFO): they
	// cannot do without it.
	if (vb.name == "i386")
		return;
	INFO(vb.name);
	Victim v(vb.path, "no-vdso");
	v.expect_ready();
	v.wait_sleeping();
	REQUIRE_THAT(look_at(v.pid()).maps, !Contains("[vdso]"));
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a job-control stop survives the infection", "[infect]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	v.wait_sleeping();
	kill(v.pid(), SIGSTOP);
	REQUIRE(wait_state(v.pid(), 'T'));
	{
		auto task = compel::Task::seize(v.pid());
		CHECK(task.thread_info().state == COMPEL_TASK_JOB_STOPPED);
		CHECK(task.thread_info().stop_signal == SIGSTOP);
		auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
		CHECK(inf.call(TEST_CMD_IDS) == 0);
		inf.cure();
		task.detach();
	}
	usleep(20000);
	CHECK(wait_state(v.pid(), 'T'));
	kill(v.pid(), SIGCONT);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a seized task can run on and be stopped again", "[infect]")
{
	Victim v(victim_builds().front().path, "spin");
	v.expect_ready();
	auto task = compel::Task::seize(v.pid());
	auto ticks = [&] {
		std::ifstream f("/proc/" + std::to_string(v.pid()) + "/stat");
		std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		std::istringstream in(s.substr(s.rfind(')') + 2));
		std::string field;
		for (int i = 0; i < 12; i++) // utime is field 14; state is field 3
			in >> field;
		return std::stol(field);
	};
	long stopped = ticks();
	usleep(50000);
	CHECK(ticks() == stopped); // frozen
	task.resume();
	CHECK_THROWS_WITH(task.syscall(COMPEL_SYS_getpid, {}), Contains("is running: interrupt it"));
	usleep(100000);
	CHECK(ticks() > stopped); // spinning again, still traced
	task.interrupt();
	CHECK(task.thread_info().state == COMPEL_TASK_RUNNING);
	CHECK(task.syscall(COMPEL_SYS_getpid, {}) == v.pid());
	auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
	CHECK(inf.call(TEST_CMD_IDS) == 0);
	inf.cure();
	task.detach();
	kill(v.pid(), SIGUSR1);
	v.go();
	CHECK_THAT(v.verdict(), Contains("PASS"));
}
