// criu's /proc parsers, on this very process: what they read must be what
// the test just set up.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "Proc.h"
#include "TempDir.h"

namespace proc = criu::proc;

TEST_CASE("stat and status of this process", "[criu][proc]")
{
	proc::Stat st = proc::read_stat(getpid());
	CHECK(st.state == 'R');
	CHECK(st.ppid == getppid());
	CHECK(st.pgid == getpgrp());
	CHECK(st.sid == getsid(0));
	CHECK(st.exit_signal == SIGCHLD);
	CHECK(st.start_code <= uintptr_t(&proc::read_stat));
	CHECK(st.arg_start < st.arg_end);

	proc::Status s = proc::read_status(getpid());
	REQUIRE_FALSE(s.nspid.empty());
	CHECK(s.nspid.back() == getpid());
	CHECK(s.uid[0] == getuid());
	CHECK(s.gid[1] == getegid());
	CHECK(s.threads >= 1);
	CHECK_FALSE(s.kernel_thread);
}

TEST_CASE("a kernel thread says so", "[criu][proc]")
{
	CHECK(proc::read_status(2).kernel_thread); // kthreadd
}

TEST_CASE("a missing process is an error naming its file", "[criu][proc]")
{
	CHECK_THROWS_WITH(proc::read_stat(0x3ffffff), Catch::Contains("/proc/67108863/stat"));
}

TEST_CASE("smaps: a mapping as it was made", "[criu][proc]")
{
	const size_t len = 8 * 4096;
	auto *p = static_cast<char *>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
					   -1, 0));
	REQUIRE(p != MAP_FAILED);
	madvise(p, len, MADV_DONTFORK);
	mprotect(p + 4096, 4096, PROT_NONE); // splits it in three
	std::vector<proc::Vma> vmas = proc::read_smaps(getpid());
	auto at = [&](uintptr_t a) {
		return std::find_if(vmas.begin(), vmas.end(), [a](const proc::Vma &v) { return v.start == a; });
	};
	auto first = at(uintptr_t(p)), hole = at(uintptr_t(p) + 4096), rest = at(uintptr_t(p) + 8192);
	REQUIRE(first != vmas.end());
	REQUIRE(hole != vmas.end());
	REQUIRE(rest != vmas.end());
	CHECK(first->end == uintptr_t(p) + 4096);
	CHECK((first->read && first->write && !first->exec && !first->shared));
	CHECK((!hole->read && !hole->write));
	CHECK(rest->end == uintptr_t(p) + len);
	CHECK(first->has("dc"));
	CHECK(first->has("nr"));
	CHECK_FALSE(first->has("wf"));
	CHECK(first->ino == 0);
	CHECK(first->name.empty());
	munmap(p, len);

	auto vdso = std::find_if(vmas.begin(), vmas.end(), [](const proc::Vma &v) { return v.name == "[vdso]"; });
	REQUIRE(vdso != vmas.end());
	CHECK(vdso->start == getauxval(AT_SYSINFO_EHDR));
	auto stack = std::find_if(vmas.begin(), vmas.end(), [](const proc::Vma &v) { return v.name == "[stack]"; });
	REQUIRE(stack != vmas.end());
	CHECK(stack->has("gd"));
}

TEST_CASE("smaps: a file mapping has its path, offset and inode", "[criu][proc]")
{
	TempDir d;
	std::string path = d.file("mapped", std::string(3 * 4096, 'x'));
	int fd = open(path.c_str(), O_RDONLY);
	REQUIRE(fd >= 0);
	void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 8192);
	REQUIRE(p != MAP_FAILED);
	struct stat st;
	fstat(fd, &st);
	close(fd);
	std::vector<proc::Vma> vmas = proc::read_smaps(getpid());
	auto v = std::find_if(vmas.begin(), vmas.end(), [p](const proc::Vma &m) { return m.start == uintptr_t(p); });
	REQUIRE(v != vmas.end());
	CHECK(v->name == path);
	CHECK(v->offset == 8192);
	CHECK(v->ino == st.st_ino);
	CHECK(v->shared);
	munmap(p, 4096);
}

TEST_CASE("fdinfo: position and flags, and the fd list", "[criu][proc]")
{
	TempDir d;
	int fd = open(d.file("f", "0123456789").c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
	REQUIRE(fd >= 0);
	lseek(fd, 7, SEEK_SET);
	proc::FdInfo info = proc::read_fdinfo(getpid(), fd);
	CHECK(info.pos == 7);
	CHECK((info.flags & O_ACCMODE) == O_RDWR);
	CHECK(info.flags & O_APPEND);
	CHECK(info.flags & O_CLOEXEC);
	std::vector<int> fds = proc::list_fds(getpid());
	CHECK(std::find(fds.begin(), fds.end(), fd) != fds.end());
	close(fd);
	fds = proc::list_fds(getpid());
	CHECK(std::find(fds.begin(), fds.end(), fd) == fds.end());
}

TEST_CASE("fdinfo: the locks held through a file", "[criu][proc]")
{
	TempDir d;
	int fl = open(d.file("flock", "").c_str(), O_RDWR | O_CLOEXEC);
	int px = open(d.file("posix", "").c_str(), O_RDWR | O_CLOEXEC);
	REQUIRE((fl >= 0 && px >= 0));
	REQUIRE(flock(fl, LOCK_SH) == 0);
	struct flock w = {};
	w.l_type = F_WRLCK, w.l_whence = SEEK_SET, w.l_start = 5, w.l_len = 10;
	REQUIRE(fcntl(px, F_SETLK, &w) == 0);
	struct flock r = {};
	r.l_type = F_RDLCK, r.l_whence = SEEK_SET, r.l_start = 100, r.l_len = 0;
	REQUIRE(fcntl(px, F_SETLK, &r) == 0);

	auto locks = proc::read_fdinfo(getpid(), fl).locks;
	REQUIRE(locks.size() == 1);
	CHECK(locks[0].kind == "FLOCK");
	CHECK_FALSE(locks[0].write);
	CHECK(locks[0].pid == getpid());
	CHECK(locks[0].end == UINT64_MAX);
	locks = proc::read_fdinfo(getpid(), px).locks;
	REQUIRE(locks.size() == 2);
	CHECK(locks[0].kind == "POSIX");
	CHECK(locks[0].write);
	CHECK(locks[0].start == 5);
	CHECK(locks[0].end == 14);
	CHECK_FALSE(locks[1].write);
	CHECK(locks[1].start == 100);
	CHECK(locks[1].end == UINT64_MAX);
	close(fl);
	close(px);
}

TEST_CASE("fdinfo: eventfd, signalfd and timerfd as made", "[criu][proc]")
{
	int efd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	uint64_t add = 0x123456789ull;
	REQUIRE(write(efd, &add, sizeof(add)) == sizeof(add));
	proc::FdInfo e = proc::read_fdinfo(getpid(), efd);
	CHECK(e.eventfd);
	CHECK(e.eventfd_count == 0x123456789ull);
	CHECK(e.eventfd_semaphore);
	CHECK(e.flags & O_NONBLOCK);
	CHECK_FALSE(e.signalfd);
	close(efd);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 1);
	int sfd = signalfd(-1, &mask, 0);
	proc::FdInfo s = proc::read_fdinfo(getpid(), sfd);
	CHECK(s.signalfd);
	CHECK(s.sigmask == ((1ull << (SIGUSR1 - 1)) | (1ull << (SIGRTMIN + 1 - 1))));
	close(sfd);

	int tfd = timerfd_create(CLOCK_BOOTTIME, 0);
	itimerspec its = {{2, 500}, {100, 0}};
	REQUIRE(timerfd_settime(tfd, 0, &its, nullptr) == 0);
	proc::FdInfo t = proc::read_fdinfo(getpid(), tfd);
	CHECK(t.timerfd);
	CHECK(t.clockid == CLOCK_BOOTTIME);
	CHECK(t.ticks == 0);
	CHECK(t.interval_ns == 2000000500ull);
	CHECK(t.value_ns > 99000000000ull);
	CHECK(t.value_ns <= 100000000000ull);
	close(tfd);
}

TEST_CASE("fdinfo: epoll targets and inotify watches", "[criu][proc]")
{
	int ep = epoll_create1(0), efd = eventfd(0, 0);
	epoll_event ev = {EPOLLIN | EPOLLET, {.u64 = 0xfedcba9876543210ull}};
	REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
	proc::FdInfo e = proc::read_fdinfo(getpid(), ep);
	REQUIRE(e.epoll.size() == 1);
	CHECK(e.epoll[0].fd == efd);
	// The kernel adds EPOLLERR and EPOLLHUP to what is asked.
	CHECK(e.epoll[0].events == (EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP));
	CHECK(e.epoll[0].data == 0xfedcba9876543210ull);
	close(ep);
	close(efd);

	TempDir d;
	struct stat st;
	REQUIRE(stat(d.path().c_str(), &st) == 0);
	int in = inotify_init1(0);
	int wd = inotify_add_watch(in, d.path().c_str(), IN_CREATE | IN_DELETE);
	proc::FdInfo i = proc::read_fdinfo(getpid(), in);
	REQUIRE(i.inotify.size() == 1);
	CHECK(i.inotify[0].wd == uint32_t(wd));
	CHECK(i.inotify[0].ino == st.st_ino);
	CHECK(i.inotify[0].mask == (IN_CREATE | IN_DELETE));
	CHECK(i.inotify[0].sdev == ((major(st.st_dev) << 20) | minor(st.st_dev)));
	CHECK_FALSE(i.inotify[0].handle.empty());
	close(in);
}

TEST_CASE("timers: a POSIX timer as created", "[criu][proc]")
{
	sigevent ev{};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR2;
	ev.sigev_value.sival_ptr = reinterpret_cast<void *>(0x1234);
	timer_t id;
	REQUIRE(timer_create(CLOCK_MONOTONIC, &ev, &id) == 0);
	std::vector<proc::PosixTimer> timers = proc::read_timers(getpid());
	auto t = std::find_if(timers.begin(), timers.end(),
			      [id](const proc::PosixTimer &p) { return p.id == int(intptr_t(id)); });
	REQUIRE(t != timers.end());
	CHECK(t->signo == SIGUSR2);
	CHECK(t->sigval == 0x1234);
	CHECK(t->notify == SIGEV_SIGNAL);
	CHECK(t->clock == CLOCK_MONOTONIC);
	timer_delete(id);
}

TEST_CASE("auxv and personality", "[criu][proc]")
{
	std::vector<uint64_t> auxv = proc::read_auxv(getpid(), 8);
	REQUIRE(auxv.size() % 2 == 0);
	bool found = false;
	for (size_t i = 0; i + 1 < auxv.size(); i += 2)
		if (auxv[i] == AT_PAGESZ)
			found = auxv[i + 1] == uint64_t(sysconf(_SC_PAGESIZE));
	CHECK(found);
	CHECK(auxv[auxv.size() - 2] == AT_NULL);
	CHECK(proc::read_personality(getpid()) == uint32_t(personality(0xffffffff)));
}
