#include "Victim.h"

#include "test-parasite.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

Victim::Victim(const std::string &exe, const std::string &scenario)
{
	int ctl[2], rep[2];
	REQUIRE(pipe2(ctl, O_CLOEXEC) == 0);
	REQUIRE(pipe2(rep, O_CLOEXEC) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		// Copies first: the pipes may already sit on fds 3 and 4, with O_CLOEXEC.
		int c = dup(ctl[0]), r = dup(rep[1]);
		dup2(c, 3);
		dup2(r, 4);
		close(c);
		close(r);
		execl(exe.c_str(), exe.c_str(), scenario.c_str(), nullptr);
		_exit(127);
	}
	pid_ = pid;
	REQUIRE(pid_ > 0);
	close(ctl[0]);
	close(rep[1]);
	ctl_ = ctl[1];
	rep_ = rep[0];
}

Victim::~Victim()
{
	if (pid_ > 0) {
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
	}
	close(ctl_);
	close(rep_);
}

std::string Victim::line(int timeout_ms)
{
	for (;;) {
		size_t nl = buf_.find('\n');
		if (nl != std::string::npos) {
			std::string l = buf_.substr(0, nl);
			buf_.erase(0, nl + 1);
			return l;
		}
		pollfd p = {rep_, POLLIN, 0};
		REQUIRE(poll(&p, 1, timeout_ms) == 1);
		char tmp[256];
		ssize_t n = read(rep_, tmp, sizeof(tmp));
		if (n <= 0)
			return buf_.empty() ? "(no report: the victim exited)" : std::exchange(buf_, "");
		buf_.append(tmp, size_t(n));
	}
}

void Victim::expect_ready() { REQUIRE(line() == "ready"); }

bool wait_state(pid_t pid, char state)
{
	for (int i = 0; i < 1000; i++) {
		std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
		std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		size_t paren = s.rfind(')');
		if (paren != std::string::npos && s.size() > paren + 2 && s[paren + 2] == state)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return false;
}

void Victim::wait_sleeping()
{
	if (!wait_state(pid_, 'S'))
		FAIL("victim " << pid_ << " never went to sleep");
}

void Victim::go() { REQUIRE(write(ctl_, "go", 2) == 2); }

std::string Victim::verdict()
{
	std::string last = line();
	int status;
	REQUIRE(waitpid(pid_, &status, 0) == pid_);
	pid_ = -1;
	return last;
}

namespace {

std::string slurp(const std::string &path)
{
	std::ifstream f(path);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> list_dir(const std::string &path)
{
	std::vector<std::string> out;
	if (DIR *d = opendir(path.c_str())) {
		while (dirent *e = readdir(d))
			if (e->d_name[0] != '.')
				out.push_back(e->d_name);
		closedir(d);
	}
	return out;
}

std::string fd_view(const std::string &proc, const std::string &fd)
{
	char target[512] = "";
	ssize_t n = readlink((proc + "/fd/" + fd).c_str(), target, sizeof(target) - 1);
	std::string out = n > 0 ? std::string(target, size_t(n)) : "?";
	std::istringstream info(slurp(proc + "/fdinfo/" + fd));
	for (std::string l; std::getline(info, l);)
		if (l.rfind("flags:", 0) == 0 || l.rfind("pos:", 0) == 0)
			out += " " + l;
	return out;
}

} // namespace

Outside look_at(pid_t pid)
{
	std::string proc = "/proc/" + std::to_string(pid);
	Outside o;
	o.maps = slurp(proc + "/maps");
	for (const auto &fd : list_dir(proc + "/fd"))
		o.fds[fd] = fd_view(proc, fd);
	for (const auto &tid : list_dir(proc + "/task")) {
		std::istringstream st(slurp(proc + "/task/" + tid + "/status"));
		std::string sig;
		// SigQ is not the process's: it counts every signal queued for the uid.
		for (std::string l; std::getline(st, l);)
			if ((l.rfind("Sig", 0) == 0 && l.rfind("SigQ", 0) != 0) || l.rfind("ShdPnd", 0) == 0 ||
			    l.rfind("Cap", 0) == 0 || l.rfind("Seccomp", 0) == 0)
				sig += l + "\n";
		o.signals[pid_t(std::stoi(tid))] = sig;
	}
	return o;
}

std::string diff(const Outside &a, const Outside &b)
{
	std::string d;
	if (a.maps != b.maps)
		d += "maps before:\n" + a.maps + "maps after:\n" + b.maps;
	if (a.fds != b.fds)
		for (const auto &[fd, v] : b.fds)
			if (!a.fds.count(fd) || a.fds.at(fd) != v)
				d += "fd " + fd + " is now " + v + "\n";
	if (a.fds.size() != b.fds.size())
		d += "the number of descriptors changed\n";
	for (const auto &[tid, s] : a.signals)
		if (!b.signals.count(tid) || b.signals.at(tid) != s)
			d += "thread " + std::to_string(tid) + " signals before:\n" + s + "after:\n" +
			     (b.signals.count(tid) ? b.signals.at(tid) : "(gone)\n");
	return d;
}

VectorRegs vector_regs(compel_arch arch)
{
	switch (arch) {
	case COMPEL_ARCH_X86_64:
	case COMPEL_ARCH_I386:
		return {NT_X86_XSTATE, 160, 256}; // xsave legacy area: xmm0-15
	case COMPEL_ARCH_AARCH64:
		return {NT_PRFPREG, 0, 512}; // user_fpsimd_state: v0-v31
	case COMPEL_ARCH_ARM:
		return {NT_ARM_VFP, 0, 256}; // user_vfp: d0-d31
	case COMPEL_ARCH_NONE:
		break;
	}
	FAIL("no vector registers known for compel arch " << int(arch));
	return {};
}

AllRegs registers_of(const compel::Task &task)
{
	unsigned fpu = vector_regs(task.arch()).regset;
	AllRegs out;
	for (pid_t tid : task.threads()) {
		std::vector<uint8_t> gpr(512), fp(16384);
		iovec g = {gpr.data(), gpr.size()}, f = {fp.data(), fp.size()};
		REQUIRE(ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void *>(NT_PRSTATUS), &g) == 0);
		REQUIRE(ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void *>(uintptr_t(fpu)), &f) == 0);
		gpr.resize(g.iov_len);
		fp.resize(f.iov_len);
		out[tid] = {gpr, fp};
	}
	return out;
}

namespace {

// Set by CMake: {"name", "path"}, one per build of the victim.
const VictimBuild kVictimBuilds[] = {VICTIM_BUILDS};

std::vector<VictimBuild> chosen_victims(std::begin(kVictimBuilds), std::end(kVictimBuilds));
std::vector<const compel_blob_desc *> parasite_builds(std::begin(test_parasite_blobs), std::end(test_parasite_blobs));

} // namespace

std::string foreign_victim;

const std::vector<VictimBuild> &victim_builds() { return chosen_victims; }

bool choose_victims(const std::string &names)
{
	chosen_victims.clear();
	std::istringstream in(names);
	for (std::string name; std::getline(in, name, ',');) {
		auto b = std::find_if(std::begin(kVictimBuilds), std::end(kVictimBuilds),
				      [&](const VictimBuild &v) { return v.name == name; });
		if (b == std::end(kVictimBuilds))
			return false;
		chosen_victims.push_back(*b);
	}
	return !chosen_victims.empty();
}

std::string blob_arch_name(const compel_blob_desc &blob)
{
	static const std::string prefix = "test_parasite_";
	return std::string(blob.name).substr(prefix.size());
}

const compel_blob_desc *const *test_parasite() { return parasite_builds.data(); }

bool choose_parasite(const std::string &name)
{
	// compel_blob_for_arch() takes the first build of the task's arch.
	auto it = std::find_if(parasite_builds.begin(), parasite_builds.end() - 1,
			       [&](const compel_blob_desc *b) { return blob_arch_name(*b) == name; });
	if (it == parasite_builds.end() - 1)
		return false;
	std::rotate(parasite_builds.begin(), it, it + 1);
	return true;
}
