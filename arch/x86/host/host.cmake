# The task arches an x86 host traces: x86-64 and ia32 tasks on an x86-64
# host, ia32 tasks on an i686 one (X86Arch.cpp decides which).
set(COMPEL_HOST_ARCH_SOURCES "${CMAKE_CURRENT_LIST_DIR}/X86Arch.cpp")
