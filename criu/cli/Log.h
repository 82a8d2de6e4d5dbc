#pragma once

#include <string>

namespace criu {

// The log: levels as CRIU's -v (1 errors, 2 warnings, 3 info, 4 debug), to
// stderr or to the file -o names.
enum class LogLevel { Error = 1, Warn = 2, Info = 3, Debug = 4 };

void log_setup(int verbosity, const std::string &path);
bool log_enabled(LogLevel level);
void log_msg(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The log's descriptor, or -1 for stderr: kept out of the way on restore.
int log_fd();
// The log's descriptor moved to fd (-1: stderr).
void log_relocate(int fd);

#define LOG_ERROR(...) ::criu::log_msg(::criu::LogLevel::Error, __VA_ARGS__)
#define LOG_WARN(...) ::criu::log_msg(::criu::LogLevel::Warn, __VA_ARGS__)
#define LOG_INFO(...) ::criu::log_msg(::criu::LogLevel::Info, __VA_ARGS__)
#define LOG_DEBUG(...) ::criu::log_msg(::criu::LogLevel::Debug, __VA_ARGS__)

} // namespace criu
