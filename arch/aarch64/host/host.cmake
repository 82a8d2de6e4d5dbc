# The task arches an AArch64 host traces: AArch64 tasks (Aarch64Arch.cpp)
# and, as compat tasks, ARM ones (arch/arm/host).
set(COMPEL_HOST_ARCH_SOURCES
	"${CMAKE_CURRENT_LIST_DIR}/Aarch64Arch.cpp"
	"${CMAKE_CURRENT_LIST_DIR}/../../arm/host/ArmArch.cpp")
set(COMPEL_HOST_ARCH_INCLUDES "${CMAKE_CURRENT_LIST_DIR}/../../arm/host")
