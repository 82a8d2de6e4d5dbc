// Talking to a parasite: daemon mode, descriptors both ways, logging, a
// crash.
#include <catch2/catch.hpp>

#include <compel/compel.hpp>

#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "Victim.h"
#include "test-protocol.h"

using Catch::Matchers::Contains;
using Catch::Matchers::Matches;
using Catch::Matchers::StartsWith;

namespace {

std::vector<std::string> log_lines;

// The parasite's store to address 0 (TEST_CMD_CRASH) as each build of it
// has the instruction, disassembled.
std::string crash_insn(const std::string &blob_arch)
{
	if (blob_arch == "x86_64" || blob_arch == "i386")
		return R"(mov dword ptr \[0\], 1)";
	if (blob_arch == "aarch64")
		return R"(str w\d+, \[x\d+\])";
	return R"(str r\d+, \[r\d+\])"; // arm, thumb
}

void collect(pid_t, const char *line, void *) { log_lines.emplace_back(line); }

struct Infected {
	Victim victim;
	compel::Task task;
	compel::Infection inf;

	explicit Infected(const VictimBuild &vb, size_t args_size = sizeof(test_args))
		: victim(vb.path, "read"), task(seize(victim)), inf(task.infect(test_parasite(), {args_size, 0}))
	{
	}

	static compel::Task seize(Victim &v)
	{
		v.expect_ready();
		v.wait_sleeping();
		return compel::Task::seize(v.pid());
	}

	test_args *args() { return inf.args<test_args>(); }

	// Cures, detaches and lets the victim finish its read.
	void finish()
	{
		inf.cure();
		task.detach();
		victim.go();
		CHECK(victim.verdict() == "PASS");
	}
};

} // namespace

TEST_CASE("the daemon loop serves many commands, then the task is cured", "[rpc]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	INFO(vb.name);
	Infected t(vb);
	t.inf.daemon_start();
	for (uint64_t i = 0; i < 200; i++) {
		t.args()->in = i;
		REQUIRE(t.inf.call(TEST_CMD_MIX) == 0);
		REQUIRE(t.args()->out == test_mix(i));
	}
	REQUIRE(t.inf.call(TEST_CMD_IDS) == 0);
	CHECK(t.args()->pid == t.victim.pid());
	t.inf.daemon_stop();
	// Synchronous calls work again after the daemon.
	t.args()->in = 7;
	REQUIRE(t.inf.call(TEST_CMD_MIX) == 0);
	CHECK(t.args()->out == test_mix(7));
	t.inf.daemon_start(); // cure stops a running daemon by itself
	t.finish();
}

TEST_CASE("descriptors go from the victim to the host and back", "[rpc]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	bool daemon = GENERATE(false, true);
	INFO(vb.name << (daemon ? ", daemon" : ""));
	Infected t(vb);
	if (daemon)
		t.inf.daemon_start();

	// The victim's fd 3 is the read end of the pipe the test writes "go" to.
	t.args()->fd = 3;
	REQUIRE(t.inf.call(TEST_CMD_SEND_FD) == 0);
	int spied = -1;
	t.inf.recv_fds(&spied, 1);
	REQUIRE(spied >= 0);
	REQUIRE(write(t.victim.ctl_fd(), "xy", 2) == 2);
	char buf[8] = "";
	CHECK(read(spied, buf, sizeof(buf)) == 2);
	CHECK(std::string(buf, 2) == "xy");
	CHECK((fcntl(spied, F_GETFD) & FD_CLOEXEC));
	close(spied);

	int p[2];
	REQUIRE(pipe(p) == 0);
	std::strcpy(t.args()->text, "written by the parasite");
	t.inf.send_fds(&p[1], 1);
	close(p[1]);
	REQUIRE(t.inf.call(TEST_CMD_TAKE_FD) == 0);
	char got[64] = "";
	CHECK(read(p[0], got, sizeof(got)) == ssize_t(std::strlen("written by the parasite")));
	CHECK(std::string(got) == "written by the parasite");
	CHECK(read(p[0], got, sizeof(got)) == 0); // the parasite closed its copy
	close(p[0]);
	t.finish();
}

TEST_CASE("the host gets a clear error when no descriptors came", "[rpc][errors]")
{
	Infected t(victim_builds().front());
	int fd;
	CHECK_THROWS_WITH(t.inf.recv_fds(&fd, 1), Contains("the parasite sent 0 of the 1 descriptors expected"));
	t.finish();
}

TEST_CASE("the parasite's log reaches the host, formatted", "[rpc]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	bool daemon = GENERATE(false, true);
	INFO(vb.name << (daemon ? ", daemon" : ""));
	Infected t(vb);
	log_lines.clear();
	t.inf.set_log_handler(collect, nullptr);
	if (daemon)
		t.inf.daemon_start();
	t.args()->count = 3;
	REQUIRE(t.inf.call(TEST_CMD_LOG) == 0);
	REQUIRE(log_lines.size() == 3);
	CHECK(log_lines[0] == "line 1 of 3: ok -5 abc 18446744073709551615");
	CHECK(log_lines[2] == "line 3 of 3: ok -5 abc 18446744073709551615");

	// More than the ring holds: the host says how much was lost.
	log_lines.clear();
	t.args()->count = 500;
	REQUIRE(t.inf.call(TEST_CMD_LOG) == 0);
	REQUIRE(!log_lines.empty());
	CHECK_THAT(log_lines[0], Contains("bytes of the parasite's log were overwritten"));
	CHECK(log_lines.back() == "line 500 of 500: ok -5 abc 18446744073709551615");
	t.finish();
}

TEST_CASE("a crashing parasite is reported, and the victim never notices", "[rpc][errors]")
{
	VictimBuild vb = GENERATE(from_range(victim_builds()));
	bool daemon = GENERATE(false, true);
	INFO(vb.name << (daemon ? ", daemon" : ""));
	Infected t(vb);
	if (daemon)
		t.inf.daemon_start();
	std::string msg;
	try {
		t.inf.call(TEST_CMD_CRASH);
		FAIL("the crash was not reported");
	} catch (const compel::Error &e) {
		msg = e.what();
	}
	CHECK_THAT(msg, StartsWith("pid " + std::to_string(t.victim.pid()) + ": the parasite's command 133 crashed"));
	CHECK_THAT(msg, Contains("crashed with SIGSEGV"));
	CHECK_THAT(msg, Contains("address (nil)"));
	CHECK_THAT(msg, Contains("at blob offset 0x"));
	// The faulting instruction, disassembled: a store of 1 to address 0.
	const compel_blob_desc *blob = compel_blob_for_arch(test_parasite(), t.task.arch());
	REQUIRE(blob);
	CHECK_THAT(msg, Matches(".* at blob offset 0x[0-9a-f]+: " + crash_insn(blob_arch_name(*blob)) + " \\[.*"));
	CHECK_THROWS_WITH(t.inf.call(TEST_CMD_IDS), Contains("the parasite crashed: cure the task"));
	t.finish();
}

TEST_CASE("a big shared argument area moves data without copies", "[rpc]")
{
	const size_t size = 8 << 20;
	Infected t(victim_builds().front(), size);
	auto *words = reinterpret_cast<uint64_t *>(t.inf.args<char>() + sizeof(test_args));
	size_t n = (size - sizeof(test_args)) / sizeof(uint64_t);
	uint64_t expect = 0;
	for (size_t i = 0; i < n; i++)
		expect += words[i] = test_mix(i);
	REQUIRE(t.inf.call(TEST_CMD_SUM) == 0);
	CHECK(t.args()->out == expect);
	t.finish();
}
