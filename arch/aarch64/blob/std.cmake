# What the std plugin needs from AArch64.
set(COMPEL_STD_ARCH_SOURCES_aarch64 "${CMAKE_CURRENT_LIST_DIR}/syscall-aarch64.S")
