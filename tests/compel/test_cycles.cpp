// Repetition and isolation: many cycles leak nothing, and nothing of an
// infection is reachable by a third process.
#include <catch2/catch.hpp>

#include <compel/compel.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "Victim.h"
#include "test-protocol.h"

namespace {

#ifdef TESTS_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

size_t count_fds(pid_t pid)
{
	size_t n = 0;
	std::string dir = "/proc/" + std::to_string(pid) + "/fd";
	if (DIR *d = opendir(dir.c_str())) {
		while (dirent *e = readdir(d))
			n += e->d_name[0] != '.';
		closedir(d);
	}
	return n - 1; // the one opendir() holds
}

long rss_kib()
{
	std::ifstream f("/proc/self/status");
	for (std::string l; std::getline(f, l);)
		if (l.rfind("VmRSS:", 0) == 0)
			return std::stol(l.substr(6));
	return -1;
}

// Inodes of the unix sockets among pid's descriptors.
std::set<std::string> socket_inodes(pid_t pid)
{
	std::set<std::string> out;
	std::string dir = "/proc/" + std::to_string(pid) + "/fd";
	if (DIR *d = opendir(dir.c_str())) {
		while (dirent *e = readdir(d)) {
			char target[64] = "";
			if (readlink((dir + "/" + e->d_name).c_str(), target, sizeof(target) - 1) > 0 &&
			    std::string(target).rfind("socket:[", 0) == 0)
				out.insert(std::string(target).substr(8, std::string(target).size() - 9));
		}
		closedir(d);
	}
	return out;
}

// /proc/net/unix: inode -> path ("" for an unnamed socket, "@..." abstract).
std::map<std::string, std::string> unix_socket_names()
{
	std::map<std::string, std::string> out;
	std::ifstream f("/proc/net/unix");
	std::string line;
	std::getline(f, line);
	while (std::getline(f, line)) {
		std::istringstream in(line);
		std::string num, ref, proto, flags, type, st, inode, path;
		in >> num >> ref >> proto >> flags >> type >> st >> inode >> path;
		out[inode] = path;
	}
	return out;
}

} // namespace

TEST_CASE("1000 seize/infect/call/cure/detach cycles leak nothing", "[cycles]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	v.wait_sleeping();
	Outside before = look_at(v.pid());
	size_t host_fds = count_fds(getpid());

	auto cycle = [&](uint64_t i) {
		auto task = compel::Task::seize(v.pid());
		auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});
		inf.args<test_args>()->in = i;
		REQUIRE(inf.call(TEST_CMD_MIX) == 0);
		REQUIRE(inf.args<test_args>()->out == test_mix(i));
	};
	for (uint64_t i = 0; i < 50; i++) // let the heap reach its working size
		cycle(i);
	long rss = rss_kib();
	for (uint64_t i = 0; i < 1000; i++)
		cycle(i);

	CHECK(count_fds(getpid()) == host_fds);
	// ASan keeps freed memory in quarantine; LeakSanitizer checks instead.
	if (!kSanitized)
		CHECK(rss_kib() - rss < 512);
	Outside after = look_at(v.pid());
	INFO(diff(before, after));
	CHECK(after == before);
	v.go();
	CHECK(v.verdict() == "PASS");
}

TEST_CASE("a third process cannot reach the parasite's channel or memory", "[security]")
{
	Victim v(victim_builds().front().path, "read");
	v.expect_ready();
	v.wait_sleeping();
	std::set<std::string> victim_sockets_before = socket_inodes(v.pid());
	auto task = compel::Task::seize(v.pid());
	auto inf = task.infect(test_parasite(), {sizeof(test_args), 0});

	// The channel: a new socket in the victim and one in the host, with no
	// name anywhere that a connect() could use.
	std::set<std::string> channel;
	for (const auto &i : socket_inodes(v.pid()))
		if (!victim_sockets_before.count(i))
			channel.insert(i);
	REQUIRE(channel.size() == 1);
	auto names = unix_socket_names();
	for (const auto &i : channel) {
		REQUIRE(names.count(i));
		CHECK(names[i] == "");
	}

	// The shared memory: the memfd is its owner's alone.
	std::string mapping;
	{
		std::istringstream maps(look_at(v.pid()).maps);
		for (std::string l; std::getline(maps, l);)
			if (l.find("/memfd:compel") != std::string::npos)
				mapping = l.substr(0, l.find(' '));
	}
	REQUIRE(!mapping.empty());
	struct stat st;
	REQUIRE(stat(("/proc/" + std::to_string(v.pid()) + "/map_files/" + mapping).c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);

	// A third process, unprivileged, tries every way in: the socket through
	// /proc, the descriptor through a pidfd, the memory through map_files.
	pid_t third = fork();
	if (third == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		int failures = 0;
		std::string proc = "/proc/" + std::to_string(v.pid());
		if (DIR *d = opendir((proc + "/fd").c_str())) {
			failures++; // listing another user's fds must fail
			closedir(d);
		}
		for (int fd = 0; fd < 64; fd++)
			if (open((proc + "/fd/" + std::to_string(fd)).c_str(), O_RDWR) >= 0)
				failures++;
		int pidfd = int(syscall(SYS_pidfd_open, v.pid(), 0));
		for (int fd = 0; pidfd >= 0 && fd < 64; fd++)
			if (syscall(SYS_pidfd_getfd, pidfd, fd, 0) >= 0)
				failures++;
		if (open((proc + "/map_files/" + mapping).c_str(), O_RDWR) >= 0)
			failures++;
		_exit(failures);
	}
	int status;
	REQUIRE(waitpid(third, &status, 0) == third);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);

	inf.cure();
	task.detach();
	v.go();
	CHECK(v.verdict() == "PASS");
}
