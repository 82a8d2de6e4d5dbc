#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// What the kernel tells of its unix sockets through sock_diag
// (NETLINK_SOCK_DIAG): the part of a socket /proc does not show.
namespace criu::proc {

struct UnixSocket {
	uint32_t ino = 0;
	int type = 0;  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
	int state = 0; // TCP_ESTABLISHED, TCP_LISTEN or TCP_CLOSE, as unix sockets use them
	// The bound address as the kernel keeps it: a path, or for an abstract
	// name a leading '\0' and the name's bytes; empty if not bound.
	std::string name;
	// Bound to a path: the device and inode of the socket file the bind made.
	bool bound_file = false;
	uint32_t file_dev = 0, file_ino = 0;
	// The peer's inode; 0 for none, and for a client whose connection waits
	// for accept() (the socket accept() will return has no inode yet).
	uint32_t peer = 0;
	// Listening: the clients whose connections wait for accept().
	std::vector<uint32_t> pending_conns;
	// Listening: connections waiting and the backlog; otherwise bytes in the
	// receive and send queues.
	uint32_t rqueue = 0, wqueue = 0;
	uint8_t shutdown = 0; // the kernel's sk_shutdown: 1 no more receiving, 2 no more sending
};

// Every unix socket of criu's network namespace, by inode.  Throws
// compel::Error naming sock_diag if the kernel cannot tell.
std::map<uint32_t, UnixSocket> read_unix_sockets();

// "socket:[1234]", as /proc/PID/fd shows a socket: 1234; 0 for anything else.
uint32_t socket_inode(const std::string &fd_link);

} // namespace criu::proc
