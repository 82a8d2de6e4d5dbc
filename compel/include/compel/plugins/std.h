/* The std plugin: syscalls, string functions, logging and the command loop of a parasite. */
#ifndef COMPEL_PLUGINS_STD_H
#define COMPEL_PLUGINS_STD_H

#include <compel/plugins/std/infect.h>
#include <compel/plugins/std/string.h>
#include <compel/plugins/std/syscall.h>
#include <compel/plugins/std/syscalls.h> /* generated per arch */

#endif
