#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <compel/compel.h>
#include <compel/rpc.h>

#include "Task.h"

namespace compel::core {

// A blob mapped into a seized task's leader thread, with the control area,
// argument area and stack that compel shares with it, and a control socket.
// Built by Task::infect(); cure() takes it all out again.  If the
// constructor throws, nothing of it is left in the task.
class Infection {
public:
	Infection(Task &task, const compel_blob_desc *const *blobs, const compel_infect_opts &opts);
	~Infection();
	Infection(const Infection &) = delete;
	Infection &operator=(const Infection &) = delete;

	Task &task() const { return task_; }
	void *args() const { return host_ + args_off_; }
	// Where the task sees args(): its syscalls compel runs may write there.
	uint64_t remote_args() const { return base_ + args_off_; }
	size_t args_size() const { return args_size_; }
	uint64_t base() const { return base_; }

	int call(unsigned cmd);
	void daemon_start();
	void daemon_stop();
	void send_fds(const int *fds, unsigned n);
	void recv_fds(int *fds, unsigned n);

	void cure();
	// Forgets the victim's side (the victim is dying); frees the host's.
	void abandon() noexcept { base_ = 0, victim_sock_ = -1; }

	void set_log_handler(compel_log_handler handler, void *data)
	{
		log_handler_ = handler;
		log_data_ = data;
	}

private:
	void map_blob();
	void open_socket();
	void remove_from_victim() noexcept;
	void release_host() noexcept;

	int call_sync(unsigned cmd);
	int call_daemon(unsigned cmd);
	void send_msg(const compel_rpc_msg &m, const int *fds = nullptr, unsigned n = 0);
	compel_rpc_msg wait_reply(unsigned cmd);
	bool receive(compel_rpc_msg &m); // false: the parasite closed the socket
	void check_stopped(const Stop &s, unsigned cmd); // the parasite's own stop, or a crash
	[[noreturn]] void crashed(const Stop &s, unsigned cmd);
	void drain_log();
	[[noreturn]] void fail(const std::string &what, int err = 0) const;

	compel_parasite_ctl *ctl() const { return reinterpret_cast<compel_parasite_ctl *>(host_ + ctl_off_); }
	std::string cmd_name(unsigned cmd) const;

	Task &task_;
	TracedThread &thread_;
	const compel_blob_desc *blob_ = nullptr;
	uint64_t entry_ = 0;

	// The shared memory: [blob | control area | arguments | stack].
	size_t ctl_off_ = 0, args_off_ = 0, args_size_ = 0, stack_top_ = 0, total_ = 0;
	uint8_t *host_ = nullptr; // the host's mapping
	int memfd_ = -1;          // the host's descriptor of it
	uint64_t base_ = 0;       // where the victim maps it (0: not mapped)

	int sock_ = -1;          // the host's end of the control socket
	int victim_sock_ = -1;   // the blob's end, a descriptor in the victim
	bool daemon_ = false;
	bool crashed_ = false;
	std::deque<int> fds_in_; // descriptors that came while waiting for a reply

	uint32_t log_read_ = 0;
	std::string log_line_;
	compel_log_handler log_handler_ = nullptr;
	void *log_data_ = nullptr;
};

} // namespace compel::core
