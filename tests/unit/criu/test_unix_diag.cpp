// sock_diag for unix sockets, on sockets the test makes: what it reads must
// be what the test just set up.
#include <catch2/catch.hpp>

#include <climits>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "TempDir.h"
#include "UnixDiag.h"
#include "format.h"

namespace proc = criu::proc;

namespace {

// A socket closed at scope exit.
struct Sock {
	int fd;
	explicit Sock(int f) : fd(f) { REQUIRE(fd >= 0); }
	~Sock() { close(fd); }
	Sock(const Sock &) = delete;
	Sock &operator=(const Sock &) = delete;
};

uint32_t inode_of(int fd)
{
	char link[PATH_MAX] = {};
	REQUIRE(readlink(compel::format("/proc/self/fd/%d", fd).c_str(), link, sizeof(link) - 1) > 0);
	uint32_t ino = proc::socket_inode(link);
	REQUIRE(ino != 0);
	return ino;
}

sockaddr_un address(const std::string &name, socklen_t &len)
{
	sockaddr_un a = {};
	a.sun_family = AF_UNIX;
	REQUIRE(name.size() < sizeof(a.sun_path));
	name.copy(a.sun_path, name.size());
	len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
	return a;
}

const proc::UnixSocket &socket_of(const std::map<uint32_t, proc::UnixSocket> &all, uint32_t ino)
{
	auto it = all.find(ino);
	REQUIRE(it != all.end());
	return it->second;
}

} // namespace

TEST_CASE("unix diag: a socketpair, its peers and queued bytes", "[criu][proc][unix]")
{
	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	Sock a(sv[0]), b(sv[1]);
	REQUIRE(send(a.fd, "hello", 5, 0) == 5);
	REQUIRE(shutdown(b.fd, SHUT_WR) == 0);

	auto all = proc::read_unix_sockets();
	const auto &sa = socket_of(all, inode_of(a.fd)), &sb = socket_of(all, inode_of(b.fd));
	CHECK(sa.type == SOCK_SEQPACKET);
	CHECK(sa.state == TCP_ESTABLISHED);
	CHECK(sa.peer == sb.ino);
	CHECK(sb.peer == sa.ino);
	CHECK(sa.name.empty());
	CHECK_FALSE(sa.bound_file);
	CHECK(sb.rqueue == 5);
	CHECK(sa.rqueue == 0);
	CHECK(sb.shutdown == 2);   // b sends no more
	CHECK(sa.shutdown == 1);   // so a receives no more
}

TEST_CASE("unix diag: a listener bound to a path, with a connection to accept", "[criu][proc][unix]")
{
	TempDir dir;
	std::string path = dir.path() + "/listener";
	socklen_t len;
	sockaddr_un addr = address(path, len);
	Sock l(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE(bind(l.fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);
	REQUIRE(listen(l.fd, 7) == 0);
	Sock c(socket(AF_UNIX, SOCK_STREAM, 0));
	REQUIRE(connect(c.fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);

	auto all = proc::read_unix_sockets();
	const auto &sl = socket_of(all, inode_of(l.fd)), &sc = socket_of(all, inode_of(c.fd));
	CHECK(sl.state == TCP_LISTEN);
	CHECK(sl.name == path);
	struct stat st;
	REQUIRE(stat(path.c_str(), &st) == 0);
	CHECK(sl.bound_file);
	CHECK(sl.file_ino == st.st_ino);
	CHECK(sl.rqueue == 1); // connections waiting
	CHECK(sl.wqueue == 7); // the backlog
	// The socket accept() will return has no inode yet: the listener names
	// the client instead, and the client's peer is 0.
	REQUIRE(sl.pending_conns.size() == 1);
	CHECK(sl.pending_conns[0] == sc.ino);
	CHECK(sc.state == TCP_ESTABLISHED);
	CHECK(sc.peer == 0);
}

TEST_CASE("unix diag: an abstract name keeps its leading NUL", "[criu][proc][unix]")
{
	std::string name = std::string(1, '\0') + compel::format("criu-unit-%d", getpid());
	socklen_t len;
	sockaddr_un addr = address(name, len);
	Sock d(socket(AF_UNIX, SOCK_DGRAM, 0));
	REQUIRE(bind(d.fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);

	auto all = proc::read_unix_sockets();
	const auto &sd = socket_of(all, inode_of(d.fd));
	CHECK(sd.type == SOCK_DGRAM);
	CHECK(sd.state == TCP_CLOSE);
	CHECK(sd.name == name);
	CHECK_FALSE(sd.bound_file);
}

TEST_CASE("socket inodes from /proc/PID/fd links", "[criu][proc][unix]")
{
	CHECK(proc::socket_inode("socket:[1234]") == 1234);
	CHECK(proc::socket_inode("socket:[4294967295]") == 4294967295u);
	CHECK(proc::socket_inode("socket:[4294967296]") == 0);
	CHECK(proc::socket_inode("socket:[12]x") == 0);
	CHECK(proc::socket_inode("pipe:[1234]") == 0);
	CHECK(proc::socket_inode("/tmp/socket:[1]") == 0);
}
