# The task arches an ARM host traces: ARM tasks (ArmArch.cpp).
set(COMPEL_HOST_ARCH_SOURCES "${CMAKE_CURRENT_LIST_DIR}/ArmArch.cpp")
set(COMPEL_HOST_ARCH_INCLUDES "${CMAKE_CURRENT_LIST_DIR}")
