#pragma once

#include <string>

namespace compel {

// printf-style formatting into a std::string, checked by the compiler.
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace compel
