#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace compel {

// The one error type of the host code: a sentence that says what was being
// done to what (pid, file, step), and the errno that made it fail, if any.
// Thrown where the failure happens, given more context on the way up, and
// printed once at the top.
class Error : public std::runtime_error {
public:
	explicit Error(const std::string &what, int err = 0)
		: std::runtime_error(err ? what + ": " + errno_text(err) : what), err_(err)
	{
	}

	// An error whose message already says what errno means.
	static Error described(const std::string &what, int err)
	{
		Error e(what);
		e.err_ = err;
		return e;
	}

	// errno of the failure, or 0 when it did not come from a syscall.
	int err() const noexcept { return err_; }

	// A new error with `context` put in front of this one's message.
	Error with_context(const std::string &context) const
	{
		Error e(context + ": " + what());
		e.err_ = err_;
		return e;
	}

	// "No such process (ESRCH)"
	static std::string errno_text(int err)
	{
		const char *name = strerrorname_np(err);
		std::string text = strerror(err);
		return name ? text + " (" + name + ")" : text;
	}

private:
	int err_;
};

// Throws Error(what, errno) for the current errno.
[[noreturn]] inline void throw_errno(const std::string &what) { throw Error(what, errno); }

} // namespace compel
