#include "Json.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace criu {

namespace {

void escape(std::string &out, const char *s)
{
	out += '"';
	for (; *s; s++) {
		unsigned char c = static_cast<unsigned char>(*s);
		if (c == '"' || c == '\\') {
			out += '\\';
			out += char(c);
		} else if (c < 0x20) {
			char buf[8];
			snprintf(buf, sizeof(buf), "\\u%04x", c);
			out += buf;
		} else {
			out += char(c);
		}
	}
	out += '"';
}

size_t element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

void value(std::string &out, const ProtobufCFieldDescriptor *f, const void *p, int indent)
{
	char buf[64];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, sizeof(buf), "%" PRId32, *static_cast<const int32_t *>(p));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, sizeof(buf), "%" PRIu32, *static_cast<const uint32_t *>(p));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, sizeof(buf), "%" PRId64, *static_cast<const int64_t *>(p));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, sizeof(buf), "%" PRIu64, *static_cast<const uint64_t *>(p));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		snprintf(buf, sizeof(buf), "%g", double(*static_cast<const float *>(p)));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		snprintf(buf, sizeof(buf), "%g", *static_cast<const double *>(p));
		out += buf;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		out += *static_cast<const protobuf_c_boolean *>(p) ? "true" : "false";
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *static_cast<const int *>(p);
		auto *e = static_cast<const ProtobufCEnumDescriptor *>(f->descriptor);
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(e, v);
		if (ev) {
			escape(out, ev->name);
		} else {
			snprintf(buf, sizeof(buf), "%d", v);
			out += buf;
		}
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		escape(out, *static_cast<const char *const *>(p) ? *static_cast<const char *const *>(p) : "");
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		auto *b = static_cast<const ProtobufCBinaryData *>(p);
		out += '"';
		for (size_t i = 0; i < b->len; i++) {
			snprintf(buf, sizeof(buf), "%02x", b->data[i]);
			out += buf;
		}
		out += '"';
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		out += to_json(*static_cast<const ProtobufCMessage *const *>(p), indent);
		break;
	}
}

bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = reinterpret_cast<const char *>(m);
	if (f->label == PROTOBUF_C_LABEL_REQUIRED || f->label == PROTOBUF_C_LABEL_NONE)
		return true;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *reinterpret_cast<const void *const *>(base + f->offset) != nullptr;
	return *reinterpret_cast<const protobuf_c_boolean *>(base + f->quantifier_offset);
}

} // namespace

std::string to_json(const ProtobufCMessage *m, int indent)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = reinterpret_cast<const char *>(m);
	std::string pad(size_t(indent + 2), ' ');
	std::string out = "{";
	bool first = true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *reinterpret_cast<const size_t *>(base + f->quantifier_offset);
			if (n == 0)
				continue;
			out += (first ? "\n" : ",\n") + pad;
			escape(out, f->name);
			out += ": [";
			const char *arr = *reinterpret_cast<const char *const *>(base + f->offset);
			for (size_t k = 0; k < n; k++) {
				out += k ? ", " : "";
				value(out, f, arr + k * element_size(f->type), indent + 2);
			}
			out += "]";
		} else {
			if (!present(m, f))
				continue;
			out += (first ? "\n" : ",\n") + pad;
			escape(out, f->name);
			out += ": ";
			value(out, f, base + f->offset, indent + 2);
		}
		first = false;
	}
	out += first ? "}" : "\n" + std::string(size_t(indent), ' ') + "}";
	return out;
}

} // namespace criu
