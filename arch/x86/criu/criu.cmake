# The x86 part of criu: registers in images, the jump into the restorer.
if(COMPEL_NATIVE_ARCH MATCHES "^(x86_64|i386)$")
	set(CRIU_ARCH_SOURCES "${CMAKE_CURRENT_LIST_DIR}/X86Core.cpp")
	set(CRIU_ARCH_INCLUDES "${CMAKE_SOURCE_DIR}/arch/x86/host")
endif()
