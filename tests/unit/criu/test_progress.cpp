// Progress: what it draws on a terminal, and that it draws nothing
// elsewhere or for little work.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pty.h>
#include <string>
#include <unistd.h>

#include "Progress.h"

using namespace criu;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// What the calls of run() write to stderr while it is the slave of a pty
// (or /dev/null).
template <typename Run> std::string on_stderr(bool tty, Run run)
{
	int master = -1, slave = -1;
	if (tty)
		REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
	else
		REQUIRE((slave = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0);
	int saved = dup(STDERR_FILENO);
	REQUIRE(saved >= 0);
	dup2(slave, STDERR_FILENO);
	run();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(slave);
	std::string out;
	char buf[512];
	ssize_t n;
	fcntl(master, F_SETFL, O_NONBLOCK);
	while (tty && (n = read(master, buf, sizeof(buf))) > 0)
		out.append(buf, size_t(n));
	if (tty)
		close(master);
	return out;
}

} // namespace

TEST_CASE("progress: a line on a terminal, redrawn and cleared", "[criu][progress]")
{
	std::string out = on_stderr(true, [] {
		Progress p("testing", 256 * kMiB, 0);
		p.update(64 * kMiB);
		p.update(128 * kMiB); // within a tenth of a second: not drawn
		usleep(110000);
		p.update(512 * kMiB); // more than the total: all of it
	});
	CHECK(out == "\rcriu: testing: 64 of 256 MiB (25%)\033[K\rcriu: testing: 256 of 256 MiB (100%)\033[K\r\033[K");
}

TEST_CASE("progress: nothing for quick or little work, or off a terminal", "[criu][progress]")
{
	CHECK(on_stderr(true, [] {
		Progress p("quick", 256 * kMiB);
		p.update(256 * kMiB);
	}) == "");
	CHECK(on_stderr(true, [] {
		Progress p("little", 63 * kMiB, 0);
		p.update(32 * kMiB);
	}) == "");
	CHECK(on_stderr(false, [] {
		CHECK_FALSE(Progress::wanted());
		Progress p("elsewhere", 256 * kMiB, 0);
		p.update(32 * kMiB);
	}) == "");
}
