#include "ProcFs.h"

#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>

#include <compel/error.hpp>

#include "format.h"

namespace compel::core {

ProcStatus read_proc_status(pid_t pid)
{
	std::string path = format("/proc/%d/status", pid);
	std::ifstream f(path);
	if (!f)
		throw Error(format("pid %d does not exist", pid), ESRCH);
	ProcStatus st;
	std::string line;
	bool has_kthread_field = false;
	while (std::getline(f, line)) {
		auto value = [&](const char *key) -> const char * {
			size_t n = strlen(key);
			return line.compare(0, n, key) == 0 ? line.c_str() + n : nullptr;
		};
		const char *v;
		if ((v = value("State:")))
			sscanf(v, " %c", &st.state);
		else if ((v = value("Tgid:")))
			st.tgid = pid_t(strtol(v, nullptr, 10));
		else if ((v = value("TracerPid:")))
			st.tracer = pid_t(strtol(v, nullptr, 10));
		else if ((v = value("Seccomp:")))
			st.seccomp = int(strtol(v, nullptr, 10));
		else if ((v = value("SigIgn:")))
			st.sig_ignored = strtoull(v, nullptr, 16);
		else if ((v = value("Kthread:"))) {
			has_kthread_field = true;
			st.kernel_thread = strtol(v, nullptr, 10) == 1;
		}
	}
	if (!has_kthread_field) {
		// Kernels before 6.4 have no Kthread: line; PF_KTHREAD is in stat's flags.
		std::ifstream stat(format("/proc/%d/stat", pid));
		std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
		size_t paren = s.rfind(')');
		unsigned long flags = 0;
		if (paren != std::string::npos)
			sscanf(s.c_str() + paren + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags);
		st.kernel_thread = flags & 0x00200000; // PF_KTHREAD
	}
	return st;
}

std::vector<pid_t> list_threads(pid_t pid)
{
	std::string path = format("/proc/%d/task", pid);
	DIR *d = opendir(path.c_str());
	if (!d)
		throw Error(format("pid %d: cannot list threads in %s", pid, path.c_str()), errno);
	std::vector<pid_t> tids;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			tids.push_back(pid_t(strtol(e->d_name, nullptr, 10)));
	closedir(d);
	return tids;
}

std::vector<MapEntry> read_maps(pid_t pid)
{
	std::string path = format("/proc/%d/maps", pid);
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		throw Error(format("pid %d: cannot open %s", pid, path.c_str()), errno);
	std::vector<MapEntry> maps;
	char *line = nullptr;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		MapEntry m;
		char perms[5] = "";
		int name_at = 0;
		unsigned long long start, end, off;
		if (sscanf(line, "%llx-%llx %4s %llx %*s %*u %n", &start, &end, perms, &off, &name_at) < 4)
			continue;
		m.start = start, m.end = end, m.offset = off;
		m.read = perms[0] == 'r', m.write = perms[1] == 'w', m.exec = perms[2] == 'x';
		m.shared = perms[3] == 's';
		m.name = line + name_at;
		if (!m.name.empty() && m.name.back() == '\n')
			m.name.pop_back();
		maps.push_back(std::move(m));
	}
	free(line);
	fclose(f);
	return maps;
}

uint64_t read_auxv(pid_t pid, uint64_t type, unsigned word_size)
{
	std::string path = format("/proc/%d/auxv", pid);
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		throw Error(format("pid %d: cannot open %s", pid, path.c_str()), errno);
	uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	auto word = [&](size_t at) {
		uint64_t v = 0;
		std::memcpy(&v, buf + at, word_size); // little-endian on every arch compel traces
		return v;
	};
	for (size_t at = 0; at + 2 * word_size <= n; at += 2 * word_size) {
		uint64_t key = word(at);
		if (key == 0) // AT_NULL
			break;
		if (key == type)
			return word(at + word_size);
	}
	return 0;
}

} // namespace compel::core
