# Tools that run on the build machine during the build: `compel` (for hgen)
# and `compel-layout` (the libclang layout checker).
#
# A native build uses its own targets.  A cross build cannot run what it
# builds, so it makes a native build of this same tree with only these tools
# (CRIU_HOST_TOOLS_ONLY) through ExternalProject, unless COMPEL_HOST_TOOLS_DIR
# names a directory that already holds them.
#
# Sets COMPEL_HGEN / COMPEL_LAYOUT (commands) and COMPEL_HOST_TOOLS_DEPENDS
# (what a custom command that runs them must depend on).

option(CRIU_HOST_TOOLS_ONLY "Build only compel and compel-layout (the tools a cross build runs)" OFF)

if(NOT CMAKE_CROSSCOMPILING)
	set(COMPEL_HGEN "$<TARGET_FILE:compel>")
	set(COMPEL_LAYOUT "$<TARGET_FILE:compel-layout>")
	set(COMPEL_HOST_TOOLS_DEPENDS compel compel-layout)
	return()
endif()

set(COMPEL_HOST_TOOLS_DIR "" CACHE PATH
	"Directory holding native compel and compel-layout; built automatically when empty")

if(COMPEL_HOST_TOOLS_DIR)
	set(COMPEL_HGEN "${COMPEL_HOST_TOOLS_DIR}/compel")
	set(COMPEL_LAYOUT "${COMPEL_HOST_TOOLS_DIR}/compel-layout")
	set(COMPEL_HOST_TOOLS_DEPENDS "${COMPEL_HGEN}" "${COMPEL_LAYOUT}")
	return()
endif()

include(ExternalProject)
set(_host_dir "${CMAKE_BINARY_DIR}/host-tools")
# The host build must not inherit the cross toolchain from the environment.
ExternalProject_Add(host-tools
	SOURCE_DIR "${CMAKE_SOURCE_DIR}"
	BINARY_DIR "${_host_dir}"
	CMAKE_GENERATOR "${CMAKE_GENERATOR}"
	CMAKE_ARGS
		-DCRIU_HOST_TOOLS_ONLY=ON
		-DCMAKE_BUILD_TYPE=Release
		-DCMAKE_TOOLCHAIN_FILE=
		-DCMAKE_C_COMPILER=cc
		-DCMAKE_CXX_COMPILER=c++
	BUILD_COMMAND ${CMAKE_COMMAND} --build . --target compel compel-layout
	INSTALL_COMMAND ""
	BUILD_ALWAYS ON
	BUILD_BYPRODUCTS "${_host_dir}/bin/compel" "${_host_dir}/bin/compel-layout"
	USES_TERMINAL_BUILD ON)
set(COMPEL_HGEN "${_host_dir}/bin/compel")
set(COMPEL_LAYOUT "${_host_dir}/bin/compel-layout")
set(COMPEL_HOST_TOOLS_DEPENDS host-tools "${COMPEL_HGEN}" "${COMPEL_LAYOUT}")
