#include "Proc.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <signal.h>
#include <sstream>

#include <compel/error.hpp>

#include "format.h"

namespace criu::proc {

using compel::Error;
using compel::format;

namespace {

std::string path_of(pid_t pid, const char *file) { return format("/proc/%d/%s", pid, file); }

std::string slurp(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw Error("cannot read " + path, errno ? errno : ENOENT);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

[[noreturn]] void bad(const std::string &path, const std::string &what)
{
	throw Error(path + ": cannot parse " + what, EINVAL);
}

std::vector<pid_t> pids(const std::string &s)
{
	std::vector<pid_t> out;
	std::istringstream in(s);
	for (long v; in >> v;)
		out.push_back(pid_t(v));
	return out;
}

} // namespace

Stat read_stat(pid_t pid)
{
	std::string path = path_of(pid, "stat");
	std::string s = slurp(path);
	Stat st;
	// comm may hold spaces and parentheses: it ends at the last ')'.
	size_t open = s.find('('), close = s.rfind(')');
	if (open == std::string::npos || close == std::string::npos || close < open)
		bad(path, "the command name");
	st.comm = s.substr(open + 1, close - open - 1);
	std::istringstream in(s.substr(close + 2));
	std::vector<std::string> f{std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
	// Fields counted from 3 (state) as proc(5) numbers them.
	auto field = [&](size_t n) -> uint64_t {
		if (n - 3 >= f.size())
			bad(path, format("field %zu", n));
		return strtoull(f[n - 3].c_str(), nullptr, 10);
	};
	st.state = f.empty() ? '?' : f[0][0];
	st.ppid = pid_t(field(4));
	st.pgid = pid_t(field(5));
	st.sid = pid_t(field(6));
	st.tty_nr = uint32_t(field(7));
	st.flags = field(9);
	st.start_code = field(26);
	st.end_code = field(27);
	st.start_stack = field(28);
	st.exit_signal = int(field(38));
	st.start_data = field(45);
	st.end_data = field(46);
	st.start_brk = field(47);
	st.arg_start = field(48);
	st.arg_end = field(49);
	st.env_start = field(50);
	st.env_end = field(51);
	st.exit_code = int(field(52));
	return st;
}

Status read_status(pid_t pid)
{
	std::string path = path_of(pid, "status");
	std::istringstream in(slurp(path));
	Status st;
	for (std::string line; std::getline(in, line);) {
		size_t colon = line.find(':');
		if (colon == std::string::npos)
			continue;
		std::string key = line.substr(0, colon), value = line.substr(colon + 1);
		auto hex = [&] { return strtoull(value.c_str(), nullptr, 16); };
		if (key == "NSpid")
			st.nspid = pids(value);
		else if (key == "NSpgid")
			st.nspgid = pids(value);
		else if (key == "NSsid")
			st.nssid = pids(value);
		else if (key == "Uid" || key == "Gid") {
			std::istringstream v(value);
			uint32_t *ids = key == "Uid" ? st.uid : st.gid;
			for (int i = 0; i < 4; i++)
				if (!(v >> ids[i]))
					bad(path, key);
		} else if (key == "Groups") {
			std::istringstream v(value);
			for (uint32_t g; v >> g;)
				st.groups.push_back(g);
		} else if (key == "CapInh")
			st.cap_inh = hex();
		else if (key == "CapPrm")
			st.cap_prm = hex();
		else if (key == "CapEff")
			st.cap_eff = hex();
		else if (key == "CapBnd")
			st.cap_bnd = hex();
		else if (key == "CapAmb")
			st.cap_amb = hex();
		else if (key == "NoNewPrivs")
			st.no_new_privs = strtol(value.c_str(), nullptr, 10) != 0;
		else if (key == "Seccomp")
			st.seccomp = int(strtol(value.c_str(), nullptr, 10));
		else if (key == "Threads")
			st.threads = int(strtol(value.c_str(), nullptr, 10));
		else if (key == "Kthread")
			st.kernel_thread = strtol(value.c_str(), nullptr, 10) == 1;
	}
	if (st.nspid.empty())
		bad(path, "NSpid");
	return st;
}

bool Vma::has(const char *flag) const { return std::find(vmflags.begin(), vmflags.end(), flag) != vmflags.end(); }

std::vector<Vma> read_smaps(pid_t pid)
{
	std::string path = path_of(pid, "smaps");
	std::istringstream in(slurp(path));
	std::vector<Vma> vmas;
	for (std::string line; std::getline(in, line);) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;
		char perms[5];
		int name_at = 0;
		if (sscanf(line.c_str(), "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &min,
			   &ino, &name_at) >= 7) {
			Vma v;
			v.start = start, v.end = end, v.offset = off, v.dev_major = maj, v.dev_minor = min, v.ino = ino;
			v.read = perms[0] == 'r', v.write = perms[1] == 'w', v.exec = perms[2] == 'x';
			v.shared = perms[3] == 's';
			v.name = name_at ? line.substr(size_t(name_at)) : "";
			vmas.push_back(std::move(v));
		} else if (line.rfind("VmFlags:", 0) == 0 && !vmas.empty()) {
			std::istringstream f(line.substr(8));
			for (std::string flag; f >> flag;)
				vmas.back().vmflags.push_back(flag);
		}
	}
	return vmas;
}

uint64_t anonymous_bytes(pid_t pid)
{
	std::istringstream in(slurp(path_of(pid, "smaps_rollup")));
	uint64_t total = 0;
	for (std::string line; std::getline(in, line);) {
		unsigned long long kib;
		if (sscanf(line.c_str(), "Anonymous: %llu kB", &kib) == 1 || sscanf(line.c_str(), "Swap: %llu kB", &kib) == 1)
			total += kib << 10;
	}
	return total;
}

namespace {

bool starts(const std::string &line, const char *prefix) { return line.rfind(prefix, 0) == 0; }

// "(sec, nsec)" of a timerfd's it_value and it_interval.
uint64_t timespec_ns(const std::string &path, const std::string &line)
{
	unsigned long long sec, nsec;
	if (sscanf(line.c_str() + line.find('('), "(%llu, %llu)", &sec, &nsec) != 2)
		bad(path, line);
	return sec * 1000000000ull + nsec;
}

InotifyWatch inotify_watch(const std::string &path, const std::string &line)
{
	InotifyWatch w;
	unsigned long long ino;
	unsigned bytes;
	int at = 0;
	if (sscanf(line.c_str(), "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:%*x fhandle-bytes:%x "
				 "fhandle-type:%x f_handle:%n",
		   &w.wd, &ino, &w.sdev, &w.mask, &bytes, &w.handle_type, &at) != 6 ||
	    !at || line.size() - size_t(at) != 2 * size_t(bytes))
		bad(path, line);
	w.ino = ino;
	for (size_t i = size_t(at); i + 1 < line.size(); i += 2)
		w.handle.push_back(uint8_t(strtoul(line.substr(i, 2).c_str(), nullptr, 16)));
	return w;
}

EpollTarget epoll_target(const std::string &path, const std::string &line)
{
	EpollTarget t;
	unsigned long long data;
	if (sscanf(line.c_str(), "tfd: %d events: %x data: %llx", &t.fd, &t.events, &data) != 3)
		bad(path, line);
	t.data = data;
	return t;
}

// "lock:\t1: POSIX  ADVISORY  WRITE 14956 fe:00:10952844 5 14"; the end
// may be "EOF".
FileLock file_lock(const std::string &path, const std::string &line)
{
	FileLock l;
	char kind[16], mode[16], type[16], end[24];
	int holder, n = 0;
	unsigned long long start;
	if (sscanf(line.c_str(), "lock: %*d: %15s %15s %15s %d %*x:%*x:%*u %llu %23s%n", kind, mode, type, &holder,
		   &start, end, &n) != 6 ||
	    size_t(n) != line.size())
		bad(path, line);
	l.kind = kind;
	l.mandatory = strcmp(mode, "MANDATORY") == 0;
	l.write = strcmp(type, "WRITE") == 0;
	l.pid = holder;
	l.start = start;
	if (strcmp(end, "EOF") == 0)
		l.end = UINT64_MAX;
	else if (sscanf(end, "%llu%n", &start, &n) == 1 && end[n] == '\0')
		l.end = start;
	else
		bad(path, line);
	return l;
}

} // namespace

FdInfo read_fdinfo(pid_t pid, int fd)
{
	std::string path = format("/proc/%d/fdinfo/%d", pid, fd);
	std::istringstream in(slurp(path));
	FdInfo info;
	bool flags = false;
	for (std::string line; std::getline(in, line);) {
		const char *v = line.c_str() + line.find(':') + 1;
		if (starts(line, "pos:")) {
			info.pos = strtoull(v, nullptr, 10);
		} else if (starts(line, "flags:")) {
			info.flags = uint32_t(strtoul(v, nullptr, 8));
			flags = true;
		} else if (starts(line, "eventfd-count:")) {
			info.eventfd = true;
			info.eventfd_count = strtoull(v, nullptr, 16);
		} else if (starts(line, "eventfd-semaphore:")) {
			info.eventfd_semaphore = strtoul(v, nullptr, 10) != 0;
		} else if (starts(line, "sigmask:")) {
			info.signalfd = true;
			info.sigmask = strtoull(v, nullptr, 16);
		} else if (starts(line, "clockid:")) {
			info.timerfd = true;
			info.clockid = int(strtol(v, nullptr, 10));
		} else if (starts(line, "ticks:")) {
			info.ticks = strtoull(v, nullptr, 10);
		} else if (starts(line, "settime flags:")) {
			info.settime_flags = uint32_t(strtoul(v, nullptr, 8));
		} else if (starts(line, "it_value:")) {
			info.value_ns = timespec_ns(path, line);
		} else if (starts(line, "it_interval:")) {
			info.interval_ns = timespec_ns(path, line);
		} else if (starts(line, "inotify wd:")) {
			info.inotify.push_back(inotify_watch(path, line));
		} else if (starts(line, "tfd:")) {
			info.epoll.push_back(epoll_target(path, line));
		} else if (starts(line, "lock:")) {
			info.locks.push_back(file_lock(path, line));
		}
	}
	if (!flags)
		bad(path, "flags");
	return info;
}

std::vector<int> list_fds(pid_t pid)
{
	std::string path = path_of(pid, "fd");
	DIR *d = opendir(path.c_str());
	if (!d)
		throw Error("cannot list " + path, errno);
	std::vector<int> fds;
	// The listing's own descriptor is not one of criu's when it lists itself.
	int own = pid == getpid() ? dirfd(d) : -1;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.' && int(strtol(e->d_name, nullptr, 10)) != own)
			fds.push_back(int(strtol(e->d_name, nullptr, 10)));
	closedir(d);
	std::sort(fds.begin(), fds.end());
	return fds;
}

std::vector<PosixTimer> read_timers(pid_t pid)
{
	std::string path = path_of(pid, "timers");
	std::istringstream in(slurp(path));
	std::vector<PosixTimer> timers;
	for (std::string line; std::getline(in, line);) {
		char how[16] = "", who[8] = "";
		unsigned long long sigval;
		int id, signo, target, clock;
		if (sscanf(line.c_str(), "ID: %d", &id) == 1) {
			timers.emplace_back();
			timers.back().id = id;
		} else if (timers.empty()) {
			bad(path, "a line before the first ID");
		} else if (sscanf(line.c_str(), "signal: %d/%llx", &signo, &sigval) == 2) {
			timers.back().signo = signo;
			timers.back().sigval = sigval;
		} else if (sscanf(line.c_str(), "notify: %15[a-z]/%7[a-z].%d", how, who, &target) == 3) {
			int n = !strcmp(how, "none") ? SIGEV_NONE : !strcmp(how, "thread") ? SIGEV_THREAD : SIGEV_SIGNAL;
			if (!strcmp(who, "tid")) {
				n |= SIGEV_THREAD_ID;
				timers.back().notify_tid = target;
			}
			timers.back().notify = n;
		} else if (sscanf(line.c_str(), "ClockID: %d", &clock) == 1) {
			timers.back().clock = clock;
		}
	}
	return timers;
}

std::vector<uint64_t> read_auxv(pid_t pid, unsigned word_size)
{
	std::string data = slurp(path_of(pid, "auxv"));
	std::vector<uint64_t> words;
	for (size_t at = 0; at + word_size <= data.size(); at += word_size) {
		uint64_t w = 0;
		memcpy(&w, data.data() + at, word_size);
		words.push_back(w);
	}
	return words;
}

uint32_t read_personality(pid_t pid)
{
	return uint32_t(strtoul(slurp(path_of(pid, "personality")).c_str(), nullptr, 16));
}

} // namespace criu::proc
