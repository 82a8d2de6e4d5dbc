#pragma once

#include <string>

#include <protobuf-c/protobuf-c.h>

namespace criu {

// Message m as JSON, from its protobuf-c descriptor alone: every image
// entry of every kind decodes through here, with no printer per message.
// Enums print as their names, bytes as hex strings; unset optional fields
// are left out.  `indent` is the indentation of the opening brace's line.
std::string to_json(const ProtobufCMessage *m, int indent = 0);

} // namespace criu
