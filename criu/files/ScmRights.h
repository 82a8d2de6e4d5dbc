#pragma once

#include <cstring>
#include <sys/socket.h>
#include <vector>

// Descriptors sent along a message (SCM_RIGHTS), for criu's sockets and
// those it restores.
namespace criu {

// Makes m carry fds: control is where the control message lives (as long
// as m is used).  No fds, no control message.
inline void attach_fds(msghdr &m, std::vector<char> &control, const std::vector<int> &fds)
{
	if (fds.empty())
		return;
	control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
	m.msg_control = control.data();
	m.msg_controllen = control.size();
	cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
	memcpy(CMSG_DATA(h), fds.data(), sizeof(int) * fds.size());
}

// Room in m for up to n descriptors to arrive.
inline void make_room_for_fds(msghdr &m, std::vector<char> &control, size_t n)
{
	control.assign(CMSG_SPACE(sizeof(int) * n), 0);
	m.msg_control = control.data();
	m.msg_controllen = control.size();
}

// The descriptors that arrived with m (now the caller's).
inline std::vector<int> received_fds(msghdr &m)
{
	std::vector<int> fds;
	for (cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
				fds.push_back(fd);
			}
	return fds;
}

} // namespace criu
