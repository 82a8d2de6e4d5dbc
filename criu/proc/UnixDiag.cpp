#include "UnixDiag.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "format.h"

namespace criu::proc {

using compel::Error;
using compel::format;

namespace {

const char kWho[] = "sock_diag (unix sockets)";

class NetlinkSocket {
public:
	NetlinkSocket() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG))
	{
		if (fd_ < 0)
			throw Error(std::string("cannot open a netlink socket for ") + kWho, errno);
	}
	~NetlinkSocket() { close(fd_); }
	NetlinkSocket(const NetlinkSocket &) = delete;
	NetlinkSocket &operator=(const NetlinkSocket &) = delete;
	int fd() const { return fd_; }

private:
	int fd_;
};

void send_dump_request(int fd)
{
	struct {
		nlmsghdr h;
		unix_diag_req r;
	} req = {};
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
	sockaddr_nl kernel = {};
	kernel.nl_family = AF_NETLINK;
	if (sendto(fd, &req, sizeof(req), 0, reinterpret_cast<sockaddr *>(&kernel), sizeof(kernel)) != sizeof(req))
		throw Error(std::string("cannot ask ") + kWho, errno);
}

template <typename T> T attr_value(const nlattr *a, size_t len)
{
	if (len < sizeof(T))
		throw Error(format("%s: attribute %u has %zu bytes, not %zu", kWho, a->nla_type, len, sizeof(T)), EPROTO);
	T v;
	memcpy(&v, reinterpret_cast<const char *>(a) + NLA_HDRLEN, sizeof(T));
	return v;
}

UnixSocket parse(const nlmsghdr *h)
{
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg)))
		throw Error(format("%s: a message of %u bytes is too short", kWho, h->nlmsg_len), EPROTO);
	const auto *m = static_cast<const unix_diag_msg *>(NLMSG_DATA(h));
	UnixSocket s;
	s.ino = m->udiag_ino;
	s.type = m->udiag_type;
	s.state = m->udiag_state;

	const char *p = reinterpret_cast<const char *>(m) + NLMSG_ALIGN(sizeof(*m));
	const char *end = reinterpret_cast<const char *>(h) + h->nlmsg_len;
	while (end - p >= NLA_HDRLEN) {
		const auto *a = reinterpret_cast<const nlattr *>(p);
		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - p)
			throw Error(format("%s: socket %u: an attribute overruns its message", kWho, s.ino), EPROTO);
		const char *data = p + NLA_HDRLEN;
		size_t len = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type) {
		case UNIX_DIAG_NAME:
			s.name.assign(data, len);
			// A path keeps the NUL bind() was given; an abstract name
			// is all bytes, its leading NUL included.
			if (!s.name.empty() && s.name[0] != '\0')
				s.name.resize(strnlen(s.name.c_str(), s.name.size()));
			break;
		case UNIX_DIAG_VFS: {
			auto v = attr_value<unix_diag_vfs>(a, len);
			s.bound_file = true;
			s.file_dev = v.udiag_vfs_dev;
			s.file_ino = v.udiag_vfs_ino;
			break;
		}
		case UNIX_DIAG_PEER:
			s.peer = attr_value<uint32_t>(a, len);
			break;
		case UNIX_DIAG_ICONS:
			for (size_t i = 0; i + sizeof(uint32_t) <= len; i += sizeof(uint32_t)) {
				uint32_t ino;
				memcpy(&ino, data + i, sizeof(ino));
				s.pending_conns.push_back(ino);
			}
			break;
		case UNIX_DIAG_RQLEN: {
			auto q = attr_value<unix_diag_rqlen>(a, len);
			s.rqueue = q.udiag_rqueue;
			s.wqueue = q.udiag_wqueue;
			break;
		}
		case UNIX_DIAG_SHUTDOWN:
			s.shutdown = attr_value<uint8_t>(a, len);
			break;
		default:
			break;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return s;
}

} // namespace

std::map<uint32_t, UnixSocket> read_unix_sockets()
{
	NetlinkSocket nl;
	send_dump_request(nl.fd());
	std::map<uint32_t, UnixSocket> out;
	alignas(nlmsghdr) char buf[32768];
	for (;;) {
		ssize_t n = recv(nl.fd(), buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw Error(std::string("cannot read the answer of ") + kWho, errno);
		if (n == 0)
			throw Error(std::string(kWho) + " ended its answer early", EPROTO);
		size_t left = size_t(n);
		for (auto *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const auto *e = static_cast<const nlmsgerr *>(NLMSG_DATA(h));
				throw Error(std::string("the kernel refused ") + kWho + " (is CONFIG_UNIX_DIAG set?)",
					    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EPROTO);
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			UnixSocket s = parse(h);
			out[s.ino] = std::move(s);
		}
	}
}

uint32_t socket_inode(const std::string &fd_link)
{
	unsigned long ino = 0;
	int used = 0;
	if (sscanf(fd_link.c_str(), "socket:[%lu]%n", &ino, &used) != 1 || size_t(used) != fd_link.size() ||
	    ino > UINT32_MAX)
		return 0;
	return uint32_t(ino);
}

} // namespace criu::proc
