#pragma once

#include <string>

namespace criu {

// `criu show FILE|DIR`: the images as JSON, decoded through their protobuf
// descriptors (a DIR gives an array, one object per image file).
std::string show(const std::string &path);

} // namespace criu
