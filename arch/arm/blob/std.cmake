# What the std plugin needs from ARM32, in ARM and in Thumb-2 code.
set(COMPEL_STD_ARCH_SOURCES_arm
	"${CMAKE_CURRENT_LIST_DIR}/syscall-arm.S"
	"${CMAKE_CURRENT_LIST_DIR}/aeabi-div.c"
	"${CMAKE_CURRENT_LIST_DIR}/aeabi-ldiv.S")
set(COMPEL_STD_ARCH_SOURCES_thumb ${COMPEL_STD_ARCH_SOURCES_arm})
