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
#include "test-parasite.h"
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
		AllRegs regs = registers_of(task.threads());
		{
			auto inf = task.infect(test_parasite_blobs, {sizeof(test_args), 0});
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
		CHECK(registers_of(task.threads()) == regs);
		task.detach();
	}
	Outside after = look_at(v.pid());
	INFO(diff(before, after));
	CHECK(after == before);
}

const char *bits(bool b32) { return b32 ? "32-bit" : "64-bit"; }

} // namespace

TEST_CASE("a victim blocked in read() resumes its read", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "read");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim in nanosleep() sleeps its full time", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "nanosleep");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim waiting on a futex is woken as before", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "futex");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a victim spinning in user code computes on", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "spin");
	v.expect_ready();
	infect_and_cure(v, COMPEL_TASK_RUNNING);
	kill(v.pid(), SIGUSR1);
	v.go();
	CHECK_THAT(v.verdict(), Contains("PASS"));
}

TEST_CASE("vector registers come back even if the parasite clobbers them", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "avx");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL, [&](compel::Task &, compel::Infection &) {
		// Do what a careless parasite would: overwrite the xmm/ymm state.
		std::vector<uint8_t> xs(16384);
		iovec iov = {xs.data(), xs.size()};
		REQUIRE(ptrace(PTRACE_GETREGSET, v.pid(), reinterpret_cast<void *>(NT_X86_XSTATE), &iov) == 0);
		std::memset(xs.data() + 160, 0x55, 256); // legacy area: xmm0-15
		REQUIRE(ptrace(PTRACE_SETREGSET, v.pid(), reinterpret_cast<void *>(NT_X86_XSTATE), &iov) == 0);
	});
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("blocked and pending signals, handlers and ignored signals stay", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "signals");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("an ignored SIGTRAP stays ignored", "[infect]")
{
	Victim v(victim_path(false), "ignored-trap");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("every thread of a multi-threaded victim is frozen and goes on", "[infect]")
{
	bool b32 = GENERATE(false, true);
	INFO(bits(b32));
	Victim v(victim_path(b32), "threads");
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
	Victim v(victim_path(false), "seccomp");
	v.expect_ready();
	v.wait_sleeping();
	infect_and_cure(v, COMPEL_TASK_IN_SYSCALL);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a job-control stop survives the infection", "[infect]")
{
	Victim v(victim_path(false), "read");
	v.expect_ready();
	v.wait_sleeping();
	kill(v.pid(), SIGSTOP);
	REQUIRE(wait_state(v.pid(), 'T'));
	{
		auto task = compel::Task::seize(v.pid());
		CHECK(task.thread_info().state == COMPEL_TASK_JOB_STOPPED);
		CHECK(task.thread_info().stop_signal == SIGSTOP);
		auto inf = task.infect(test_parasite_blobs, {sizeof(test_args), 0});
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
	Victim v(victim_path(false), "spin");
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
	auto inf = task.infect(test_parasite_blobs, {sizeof(test_args), 0});
	CHECK(inf.call(TEST_CMD_IDS) == 0);
	inf.cure();
	task.detach();
	kill(v.pid(), SIGUSR1);
	v.go();
	CHECK_THAT(v.verdict(), Contains("PASS"));
}
