#pragma once

// Kernel facts that are the same on every arch.

namespace compel::core {

// What a syscall interrupted by a signal or a ptrace stop leaves in the
// result register, telling the kernel how to restart it on resume
// (include/linux/errno.h; never seen by user space).
inline constexpr long kERestartSys = 512;
inline constexpr long kERestartNoIntr = 513;
inline constexpr long kERestartNoHand = 514;
inline constexpr long kERestartRestartBlock = 516;

inline bool is_restart_code(long result)
{
	return result == -kERestartSys || result == -kERestartNoIntr || result == -kERestartNoHand ||
	       result == -kERestartRestartBlock;
}

} // namespace compel::core
