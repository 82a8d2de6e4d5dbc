/* The std plugin: syscalls and string functions for blob code. */
#ifndef COMPEL_PLUGINS_STD_H
#define COMPEL_PLUGINS_STD_H

#include <compel/plugins/std/string.h>
#include <compel/plugins/std/syscall.h>
#include <compel/plugins/std/syscalls.h> /* generated per arch */

#endif
