// The fdinfo engine in this very process, on descriptor numbers far above
// what the test holds: files come out on their numbers whatever the order
// they are listed in, and files that wait for each other are an error.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "FdinfoEngine.h"
#include "FileTypes.h"

using namespace criu;

namespace {

constexpr int kBase = 700; // the files' descriptors; service ones above

// Files of files.img and fdinfo entries, as restore reads them.
struct Images {
	std::vector<std::unique_ptr<FileEntry>> files;
	std::vector<std::unique_ptr<FdinfoEntry>> fles;
	std::vector<std::unique_ptr<EpollEntry>> epolls;
	std::vector<std::unique_ptr<EpollTargetEntry>> targets;
	std::vector<std::unique_ptr<EpollTargetEntry *[]>> target_arrays;
	std::vector<std::unique_ptr<EventfdEntry>> eventfds;
	std::vector<std::unique_ptr<PipeEntry>> pipes;

	FileEntry &file(FileEntry__TypeT type)
	{
		files.push_back(std::make_unique<FileEntry>(FileEntry(FILE_ENTRY__INIT)));
		files.back()->id = uint32_t(files.size());
		files.back()->type = type;
		return *files.back();
	}
	FileEntry &epoll(std::vector<std::pair<int, uint64_t>> watched)
	{
		FileEntry &f = file(FILE_ENTRY__TYPE_T__EPOLL);
		epolls.push_back(std::make_unique<EpollEntry>(EpollEntry(EPOLL_ENTRY__INIT)));
		target_arrays.push_back(std::make_unique<EpollTargetEntry *[]>(watched.size()));
		for (size_t i = 0; i < watched.size(); i++) {
			targets.push_back(std::make_unique<EpollTargetEntry>(EpollTargetEntry(EPOLL_TARGET_ENTRY__INIT)));
			targets.back()->fd = uint32_t(watched[i].first);
			targets.back()->events = EPOLLIN;
			targets.back()->data = watched[i].second;
			target_arrays.back()[i] = targets.back().get();
		}
		epolls.back()->n_targets = watched.size();
		epolls.back()->targets = target_arrays.back().get();
		f.epoll = epolls.back().get();
		return f;
	}
	FileEntry &eventfd(uint64_t counter)
	{
		FileEntry &f = file(FILE_ENTRY__TYPE_T__EVENTFD);
		eventfds.push_back(std::make_unique<EventfdEntry>(EventfdEntry(EVENTFD_ENTRY__INIT)));
		eventfds.back()->counter = counter;
		f.eventfd = eventfds.back().get();
		return f;
	}
	FileEntry &pipe_end(uint32_t pipe_id, uint32_t flags, const char *data)
	{
		FileEntry &f = file(FILE_ENTRY__TYPE_T__PIPE);
		pipes.push_back(std::make_unique<PipeEntry>(PipeEntry(PIPE_ENTRY__INIT)));
		PipeEntry &p = *pipes.back();
		p.pipe_id = pipe_id;
		p.flags = flags;
		if (data) {
			p.has_size = p.has_data = true;
			p.size = 65536;
			p.data = {strlen(data), reinterpret_cast<uint8_t *>(const_cast<char *>(data))};
		}
		f.pipe = &p;
		return f;
	}
	const FdinfoEntry *fle(int fd, const FileEntry &f)
	{
		fles.push_back(std::make_unique<FdinfoEntry>(FdinfoEntry(FDINFO_ENTRY__INIT)));
		fles.back()->fd = uint32_t(fd);
		fles.back()->id = f.id;
		return fles.back().get();
	}
};

struct Closer {
	~Closer()
	{
		for (int fd = kBase; fd < kBase + 40; fd++)
			close(fd);
	}
};

} // namespace

TEST_CASE("fdinfo engine: an epoll listed before its targets gets them", "[criu][files]")
{
	Closer closer;
	Images img;
	ServiceFds sfd(kBase + 2);
	ImagesDir dir(-1, "/nonexistent");
	{
		FdinfoEngine engine(sfd, dir);
		FileDescFactory factory;
		FileEntry &ep = img.epoll({{kBase + 1, 11}, {kBase + 2, 22}});
		FileEntry &ev = img.eventfd(5);
		FileEntry &pipe_rd = img.pipe_end(1, O_RDONLY | O_NONBLOCK, "abc");
		engine.add(factory.make(ep), {img.fle(kBase, ep)});
		engine.add(factory.make(ev), {img.fle(kBase + 1, ev)});
		engine.add(factory.make(pipe_rd), {img.fle(kBase + 2, pipe_rd)});
		engine.run();
	}

	epoll_event got[2];
	REQUIRE(epoll_wait(kBase, got, 2, 0) == 2);
	CHECK(got[0].data.u64 + got[1].data.u64 == 33);
	uint64_t v = 0;
	CHECK(read(kBase + 1, &v, sizeof(v)) == sizeof(v));
	CHECK(v == 5);
	char buf[8] = {};
	CHECK(read(kBase + 2, buf, sizeof(buf)) == 3);
	CHECK(std::string(buf) == "abc");
	// The pipe's write end was not the process's: gone with the engine
	// (the read end is non-blocking, should it not be gone).
	CHECK(read(kBase + 2, buf, sizeof(buf)) == 0);
}

TEST_CASE("fdinfo engine: a dup shares the open file, and nothing is left above", "[criu][files]")
{
	Closer closer;
	Images img;
	ServiceFds sfd(kBase + 5);
	ImagesDir dir(-1, "/nonexistent");
	{
		FdinfoEngine engine(sfd, dir);
		FileDescFactory factory;
		FileEntry &rd = img.pipe_end(1, O_RDONLY, "xy");
		FileEntry &wr = img.pipe_end(1, O_WRONLY, nullptr);
		engine.add(factory.make(rd), {img.fle(kBase + 3, rd), img.fle(kBase + 5, rd)});
		engine.add(factory.make(wr), {img.fle(kBase + 4, wr)});
		engine.run();
	}
	CHECK(fcntl(kBase + 5, F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(kBase + 3, F_GETFL) & O_NONBLOCK);
	CHECK(write(kBase + 4, "z", 1) == 1);
	char buf[8] = {};
	CHECK(read(kBase + 3, buf, sizeof(buf)) == 3);
	CHECK(std::string(buf) == "xyz");
	for (int fd = sfd.park_base(); fd < sfd.park_base() + 10; fd++)
		CHECK(fcntl(fd, F_GETFD) < 0);
}

TEST_CASE("fdinfo engine: a pipe made on the numbers its ends swap to", "[criu][files]")
{
	// The two lowest free numbers, where pipe() puts its ends: the read
	// end is to go where pipe() puts the write end, and the other way round.
	int low = open("/dev/null", O_RDONLY), high = open("/dev/null", O_RDONLY);
	close(low);
	close(high);
	Images img;
	ServiceFds sfd(high);
	ImagesDir dir(-1, "/nonexistent");
	{
		FdinfoEngine engine(sfd, dir);
		FileDescFactory factory;
		FileEntry &rd = img.pipe_end(1, O_RDONLY, "q");
		FileEntry &wr = img.pipe_end(1, O_WRONLY, nullptr);
		engine.add(factory.make(rd), {img.fle(high, rd)});
		engine.add(factory.make(wr), {img.fle(low, wr)});
		engine.run();
	}
	CHECK(write(low, "z", 1) == 1);
	char buf[8] = {};
	CHECK(read(high, buf, sizeof(buf)) == 2);
	CHECK(std::string(buf) == "qz");
	close(low);
	close(high);
}

TEST_CASE("fdinfo engine: files that wait for each other are an error, not a hang", "[criu][files]")
{
	Closer closer;
	Images img;
	ServiceFds sfd(kBase + 1);
	ImagesDir dir(-1, "/nonexistent");
	FdinfoEngine engine(sfd, dir);
	FileDescFactory factory;
	FileEntry &a = img.epoll({{kBase + 1, 1}});
	FileEntry &b = img.epoll({{kBase, 2}});
	engine.add(factory.make(a), {img.fle(kBase, a)});
	engine.add(factory.make(b), {img.fle(kBase + 1, b)});
	try {
		engine.run();
		FAIL("the engine restored two epolls that watch each other");
	} catch (const compel::Error &e) {
		std::string msg = e.what();
		CHECK(msg.find("wait for each other") != std::string::npos);
		CHECK(msg.find("fd 700 (file 1, EPOLL) waits for fd 701 to be restored") != std::string::npos);
		CHECK(msg.find("fd 701 (file 2, EPOLL) waits for fd 700 to be restored") != std::string::npos);
		CHECK(e.err() == EDEADLK);
	}
}

TEST_CASE("fdinfo engine: a file never lands on a service descriptor", "[criu][files]")
{
	Closer closer;
	Images img;
	ServiceFds sfd(kBase);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	std::vector<int> slots = sfd.install({null});
	close(null);
	REQUIRE(slots[0] == kBase + 1);
	ImagesDir dir(-1, "/nonexistent");
	FdinfoEngine engine(sfd, dir);
	FileDescFactory factory;
	FileEntry &ev = img.eventfd(0);
	engine.add(factory.make(ev), {img.fle(kBase + 1, ev)});
	CHECK_THROWS_WITH(engine.run(), Catch::Contains("would overwrite criu's service descriptors"));
	// The guard after the fact: a service descriptor replaced behind its back.
	int other = eventfd(0, 0);
	dup2(other, kBase + 1);
	close(other);
	CHECK_THROWS_WITH(sfd.verify(), Catch::Contains("was closed or replaced"));
}
