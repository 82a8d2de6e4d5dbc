# What the std plugin needs from x86 for each blob arch.
# The clone stub is a file of its own: only the blobs that create threads
# link it.
set(COMPEL_STD_ARCH_SOURCES_x86_64
	"${CMAKE_CURRENT_LIST_DIR}/syscall-x86_64.S"
	"${CMAKE_CURRENT_LIST_DIR}/clone-x86_64.S")
set(COMPEL_STD_ARCH_SOURCES_i386
	"${CMAKE_CURRENT_LIST_DIR}/syscall-i386.S"
	"${CMAKE_CURRENT_LIST_DIR}/divide-i386.c")
