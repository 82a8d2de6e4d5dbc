// Netlink sockets: their protocol, port, multicast groups, destination and
// options.  What the kernel has queued for one is not kept: the dump
// refuses a socket with messages not read yet.
#include <linux/netlink.h>
#include <sys/socket.h>
#include <vector>

#include <compel/error.hpp>

#include "DumpContext.h"
#include "FdinfoEngine.h"
#include "FileTypes.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

// The SOL_NETLINK options that are on or off, as getsockopt() tells them.
constexpr int kNetlinkOptions[] = {NETLINK_PKTINFO,	    NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
				   NETLINK_LISTEN_ALL_NSID, NETLINK_CAP_ACK,	     NETLINK_EXT_ACK,
				   NETLINK_GET_STRICT_CHK};

int get_int(DumpedFd &d, int level, int opt, const char *what)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(d.copy(), level, opt, &v, &len) != 0)
		d.fail(format("cannot read its %s", what), errno);
	return v;
}

void set_option(int sk, int level, int opt, int v, const char *what)
{
	if (setsockopt(sk, level, opt, &v, sizeof(v)) != 0)
		throw Error(format("cannot set the netlink socket's %s to %d", what, v), errno);
}

} // namespace

FileEntry *dump_netlink_socket(DumpedFd &d)
{
	Arena &arena = d.c.arena;
	NetlinkSkEntry n = NETLINK_SK_ENTRY__INIT;
	n.flags = d.flags;
	n.type = uint32_t(get_int(d, SOL_SOCKET, SO_TYPE, "type"));
	n.protocol = uint32_t(get_int(d, SOL_SOCKET, SO_PROTOCOL, "protocol"));
	sockaddr_nl self = {}, peer = {};
	socklen_t len = sizeof(self);
	if (getsockname(d.copy(), reinterpret_cast<sockaddr *>(&self), &len) != 0)
		d.fail("cannot read the port it is bound to", errno);
	len = sizeof(peer);
	if (getpeername(d.copy(), reinterpret_cast<sockaddr *>(&peer), &len) != 0)
		d.fail("cannot read where it sends", errno);
	n.has_portid = self.nl_pid != 0, n.portid = self.nl_pid;
	n.has_dst_portid = n.has_dst_group = peer.nl_pid || peer.nl_groups;
	n.dst_portid = peer.nl_pid, n.dst_group = peer.nl_groups;
	std::vector<uint32_t> groups(32);
	for (;;) {
		len = socklen_t(groups.size() * sizeof(uint32_t));
		if (getsockopt(d.copy(), SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups.data(), &len) != 0)
			d.fail("cannot read its multicast groups (NETLINK_LIST_MEMBERSHIPS)", errno);
		if (len <= groups.size() * sizeof(uint32_t))
			break;
		groups.resize(len / sizeof(uint32_t));
	}
	groups.resize(len / sizeof(uint32_t));
	while (!groups.empty() && !groups.back())
		groups.pop_back();
	n.n_groups = groups.size();
	n.groups = arena.array<uint32_t>(groups.size());
	std::copy(groups.begin(), groups.end(), n.groups);
	for (int opt : kNetlinkOptions)
		if (get_int(d, SOL_NETLINK, opt, "netlink options"))
			n.options |= 1u << opt;
	n.sndbuf = uint32_t(get_int(d, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
	n.rcvbuf = uint32_t(get_int(d, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
	// MSG_TRUNC: the length of the first message, whatever the buffer.
	ssize_t queued = recv(d.copy(), nullptr, 0, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (queued >= 0)
		d.refuse(format("is a netlink socket (protocol %u) with messages from the kernel not read yet: not supported "
				"yet",
				n.protocol));
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		d.fail("cannot look at what is queued for it", errno);
	FileEntry f = FILE_ENTRY__INIT;
	f.type = FILE_ENTRY__TYPE_T__NETLINK_SK;
	f.netlink_sk = arena.make(n);
	return arena.make(f);
}

namespace {

class NetlinkSocket : public FileDesc {
public:
	using FileDesc::FileDesc;

	Step open(FdinfoEngine &engine) override
	{
		const NetlinkSkEntry &n = *entry.netlink_sk;
		UniqueFd sk(socket(AF_NETLINK, int(n.type) | SOCK_CLOEXEC, int(n.protocol)));
		if (!sk)
			throw Error(format("cannot make a netlink socket of protocol %u", n.protocol), errno);
		for (int opt : kNetlinkOptions)
			if (n.options & (1u << opt))
				set_option(sk.get(), SOL_NETLINK, opt, 1, format("option %d", opt).c_str());
		set_option(sk.get(), SOL_SOCKET, SO_SNDBUFFORCE, int(n.sndbuf / 2), "SO_SNDBUF");
		set_option(sk.get(), SOL_SOCKET, SO_RCVBUFFORCE, int(n.rcvbuf / 2), "SO_RCVBUF");
		sockaddr_nl a = {};
		a.nl_family = AF_NETLINK;
		if (n.has_portid) {
			a.nl_pid = n.portid;
			if (bind(sk.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
				throw Error(format("cannot bind the netlink socket to port %u", n.portid), errno);
		}
		for (size_t i = 0; i < n.n_groups; i++)
			for (unsigned bit = 0; bit < 32; bit++)
				if (n.groups[i] & (1u << bit))
					set_option(sk.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, int(i * 32 + bit + 1),
						   "multicast group (NETLINK_ADD_MEMBERSHIP)");
		if (n.has_dst_portid) {
			a.nl_pid = n.dst_portid;
			a.nl_groups = n.dst_group;
			if (connect(sk.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
				throw Error(format("cannot connect the netlink socket to port %u, groups %x", n.dst_portid,
						   n.dst_group),
					    errno);
		}
		set_status_flags(sk.get(), n.flags);
		engine.hand_out(*this, engine.park(sk.release()));
		return Step::Done;
	}
};

} // namespace

std::unique_ptr<FileDesc> netlink_socket_desc(const FileEntry &e) { return std::make_unique<NetlinkSocket>(e); }

uint32_t netlink_option_bits()
{
	uint32_t bits = 0;
	for (int opt : kNetlinkOptions)
		bits |= 1u << opt;
	return bits;
}

} // namespace criu
