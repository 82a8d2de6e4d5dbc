# compel_add_blob(): the one way a blob is built, in this tree and, installed
# with the SDK, in any project that does find_package(Compel).
#
#   compel_add_blob(NAME
#       ARCH <x86_64|i386|arm|thumb|aarch64>...   one or more blob arches
#       SOURCES src...                            C, C++ or assembler (.S)
#       [PARASITE]                                a blob for compel_infect():
#                                                 links the std plugin's entry
#                                                 and command loop; define
#                                                 parasite_service()
#       [PLUGINS std|fds|shmem...]                compel plugins to link in
#       [SHARED_HEADERS hdr...]                   host<->blob headers whose
#                                                 record layouts must agree
#       [INCLUDE_DIRECTORIES dir...]
#       [COMPILE_DEFINITIONS def...]
#       [COMPILE_OPTIONS opt...])
#
# For each arch it compiles SOURCES with clang --target=<triple> and the
# flags of CompelFlags.cmake, links one static-PIE image with ld.lld and the
# blob link script, and runs `compel verify` (no FP/vector or privileged
# instructions, syscalls only through the std plugin) and `compel hgen` on it.  The result is an INTERFACE
# library NAME whose include directory holds:
#   NAME-<arch>.h  the blob of one arch: NAME_<arch>_blob (struct compel_blob_desc)
#   NAME.h         all of them, and NAME_blobs[], a null-terminated list that
#                  compel_blob_for_arch() picks from at run time.
# SHARED_HEADERS are checked by compel-layout for every blob arch and the
# host arch: one field laid out differently anywhere fails the build.
#
# Expects (set by CompelConfig.cmake, or by the top-level CMakeLists.txt in
# this tree): COMPEL_HGEN, COMPEL_LAYOUT, COMPEL_HOST_TOOLS_DEPENDS,
# COMPEL_INCLUDE_DIR, COMPEL_ARCH_ROOT, COMPEL_LINK_SCRIPT and, in this tree
# only, COMPEL_PLUGIN_DEPENDS (targets that build the plugin archives).

include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/CompelFlags.cmake")

find_program(COMPEL_CLANG NAMES clang-19 clang REQUIRED)
find_program(COMPEL_LLD NAMES ld.lld-19 ld.lld REQUIRED)
find_program(COMPEL_AR NAMES llvm-ar-19 llvm-ar REQUIRED)

function(_compel_check_arch arch)
	if(NOT arch IN_LIST COMPEL_ARCHES)
		message(FATAL_ERROR "compel: unknown blob arch '${arch}' (known: ${COMPEL_ARCHES})")
	endif()
endfunction()

# Flags to compile one blob source of `arch`; language from the extension.
function(_compel_source_flags out arch src)
	set(f --target=${COMPEL_TRIPLE_${arch}} ${COMPEL_CFLAGS_COMMON} ${COMPEL_CFLAGS_${arch}}
		-I${COMPEL_INCLUDE_DIR} -I${COMPEL_ARCH_ROOT}/${arch}/include)
	get_filename_component(ext "${src}" LAST_EXT)
	if(ext MATCHES "^\\.(cpp|cc|cxx)$")
		list(APPEND f ${COMPEL_CXXFLAGS} -include compel/blob-prologue.h)
	elseif(ext STREQUAL ".c")
		list(APPEND f ${COMPEL_CFLAGS_C} -include compel/blob-prologue.h)
	elseif(ext STREQUAL ".S")
		list(APPEND f -D__ASSEMBLY__)
	else()
		message(FATAL_ERROR "compel: don't know how to compile blob source '${src}'")
	endif()
	set(${out} ${f} PARENT_SCOPE)
endfunction()

# Compile `sources` for `arch` into objects under `objdir`.
function(_compel_compile out arch objdir)
	cmake_parse_arguments(C "" "" "SOURCES;INCLUDES;DEFINES;OPTIONS;DEPENDS" ${ARGN})
	set(objs)
	foreach(src IN LISTS C_SOURCES)
		get_filename_component(src "${src}" ABSOLUTE)
		_compel_source_flags(flags ${arch} "${src}")
		get_filename_component(base "${src}" NAME)
		set(obj "${objdir}/${base}.o")
		list(TRANSFORM C_INCLUDES PREPEND -I OUTPUT_VARIABLE incs)
		list(TRANSFORM C_DEFINES PREPEND -D OUTPUT_VARIABLE defs)
		add_custom_command(OUTPUT "${obj}"
			COMMAND "${COMPEL_CLANG}" ${flags} ${incs} ${defs} ${C_OPTIONS}
				-MD -MF "${obj}.d" -c "${src}" -o "${obj}"
			DEPENDS "${src}" ${C_DEPENDS}
			DEPFILE "${obj}.d"
			COMMENT "Compiling blob source ${base} (${arch})"
			COMMAND_EXPAND_LISTS VERBATIM)
		list(APPEND objs "${obj}")
	endforeach()
	set(${out} ${objs} PARENT_SCOPE)
endfunction()

# compel_add_plugin(NAME ARCH arch SOURCES ... [DEPENDS ...]): an archive of
# blob code, lib<NAME>.a in the arch's directory.  Used to build the SDK.
function(compel_add_plugin name)
	cmake_parse_arguments(P "" "ARCH" "SOURCES;DEPENDS" ${ARGN})
	_compel_check_arch(${P_ARCH})
	set(dir "${COMPEL_ARCH_ROOT}/${P_ARCH}")
	_compel_compile(objs ${P_ARCH} "${CMAKE_CURRENT_BINARY_DIR}/${name}.${P_ARCH}"
		SOURCES ${P_SOURCES} OPTIONS -Wall -Wextra -Werror DEPENDS ${P_DEPENDS})
	set(lib "${dir}/lib${name}.a")
	add_custom_command(OUTPUT "${lib}"
		COMMAND "${CMAKE_COMMAND}" -E rm -f "${lib}"
		COMMAND "${COMPEL_AR}" rcsD "${lib}" ${objs}
		DEPENDS ${objs}
		COMMENT "Archiving compel plugin ${name} (${P_ARCH})"
		VERBATIM)
	add_custom_target(compel-plugin-${name}-${P_ARCH} ALL DEPENDS "${lib}")
	set_property(GLOBAL APPEND PROPERTY COMPEL_PLUGIN_DEPENDS compel-plugin-${name}-${P_ARCH})
endfunction()

# compel_check_layout(NAME HEADERS h... ARCH a... [INCLUDE_DIRECTORIES d...]
#                     [STAMP var])
# Checks at build time that the structs and unions of the headers have one
# layout for the host and every arch given; a target NAME-layout does it,
# and var (if given) receives the stamp file that a step can depend on.
function(compel_check_layout name)
	cmake_parse_arguments(L "" "STAMP" "HEADERS;ARCH;INCLUDE_DIRECTORIES" ${ARGN})
	if(NOT COMPEL_LAYOUT)
		message(FATAL_ERROR "compel_check_layout(${name}): needs compel-layout, "
			"which this SDK lacks (it is built only natively, with libclang)")
	endif()
	compel_arch_of_processor(host ${CMAKE_SYSTEM_PROCESSOR})
	set(triples ${COMPEL_TRIPLE_${host}})
	foreach(arch IN LISTS L_ARCH)
		_compel_check_arch(${arch})
		list(APPEND triples ${COMPEL_TRIPLE_${arch}})
	endforeach()
	list(REMOVE_DUPLICATES triples)
	list(TRANSFORM triples PREPEND "--target;" OUTPUT_VARIABLE targets)
	list(TRANSFORM L_HEADERS REPLACE "^([^/].*)$" "${CMAKE_CURRENT_SOURCE_DIR}/\\1"
		OUTPUT_VARIABLE headers)
	list(TRANSFORM L_INCLUDE_DIRECTORIES PREPEND -I OUTPUT_VARIABLE incflags)
	set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${name}.layout.stamp")
	add_custom_command(OUTPUT "${stamp}"
		COMMAND ${COMPEL_LAYOUT} ${targets} -I${COMPEL_INCLUDE_DIR} ${incflags} ${headers}
		COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
		DEPENDS ${headers} ${COMPEL_HOST_TOOLS_DEPENDS}
		COMMENT "Checking that ${name}'s shared structs have one layout on every arch"
		COMMAND_EXPAND_LISTS VERBATIM)
	add_custom_target(${name}-layout ALL DEPENDS "${stamp}")
	if(L_STAMP)
		set(${L_STAMP} "${stamp}" PARENT_SCOPE)
	endif()
endfunction()

function(compel_add_blob name)
	cmake_parse_arguments(B "PARASITE"
		""
		"ARCH;SOURCES;PLUGINS;SHARED_HEADERS;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS"
		${ARGN})
	set(ldflags ${COMPEL_LDFLAGS})
	if(B_PARASITE)
		list(APPEND ldflags ${COMPEL_PARASITE_LDFLAGS})
		if(NOT "std" IN_LIST B_PLUGINS)
			list(APPEND B_PLUGINS std)
		endif()
	endif()
	if(NOT B_ARCH OR NOT B_SOURCES)
		message(FATAL_ERROR "compel_add_blob(${name}): ARCH and SOURCES are required")
	endif()
	if(B_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "compel_add_blob(${name}): unexpected arguments ${B_UNPARSED_ARGUMENTS}")
	endif()
	string(MAKE_C_IDENTIFIER "${name}" cname)
	set(outdir "${CMAKE_CURRENT_BINARY_DIR}/${name}.blob")
	list(TRANSFORM B_INCLUDE_DIRECTORIES REPLACE "^(.+)$" "${CMAKE_CURRENT_SOURCE_DIR}/\\1"
		REGEX "^[^/]" OUTPUT_VARIABLE incdirs)

	set(layout_stamp)
	if(B_SHARED_HEADERS)
		compel_check_layout(${name} HEADERS ${B_SHARED_HEADERS} ARCH ${B_ARCH}
			INCLUDE_DIRECTORIES ${incdirs} STAMP layout_stamp)
	endif()

	set(headers_out)
	set(umbrella_includes)
	set(umbrella_list)
	get_property(plugin_targets GLOBAL PROPERTY COMPEL_PLUGIN_DEPENDS)
	foreach(arch IN LISTS B_ARCH)
		_compel_check_arch(${arch})
		_compel_compile(objs ${arch} "${outdir}/${arch}"
			SOURCES ${B_SOURCES}
			INCLUDES ${incdirs}
			DEFINES ${B_COMPILE_DEFINITIONS}
			OPTIONS ${B_COMPILE_OPTIONS}
			DEPENDS ${layout_stamp})
		set(libs)
		foreach(p IN LISTS B_PLUGINS)
			list(APPEND libs "${COMPEL_ARCH_ROOT}/${arch}/lib${p}.a")
		endforeach()
		set(elf "${outdir}/${name}.${arch}.elf")
		add_custom_command(OUTPUT "${elf}"
			COMMAND "${COMPEL_LLD}" ${ldflags} -T "${COMPEL_LINK_SCRIPT}"
				${objs} --start-group ${libs} --end-group -o "${elf}"
			DEPENDS ${objs} ${libs} "${COMPEL_LINK_SCRIPT}" ${plugin_targets}
			COMMENT "Linking blob ${name} (${arch})"
			COMMAND_EXPAND_LISTS VERBATIM)
		set(hdr "${outdir}/${name}-${arch}.h")
		add_custom_command(OUTPUT "${hdr}"
			COMMAND ${COMPEL_HGEN} verify "${elf}"
			COMMAND ${COMPEL_HGEN} hgen -f "${elf}" -o "${hdr}" --prefix ${cname}_${arch}
			DEPENDS "${elf}" ${COMPEL_HOST_TOOLS_DEPENDS}
			COMMENT "Verifying blob ${name} (${arch}), generating ${name}-${arch}.h"
			VERBATIM)
		list(APPEND headers_out "${hdr}")
		string(APPEND umbrella_includes "#include \"${name}-${arch}.h\"\n")
		string(APPEND umbrella_list "\t&${cname}_${arch}_blob,\n")
	endforeach()

	file(CONFIGURE OUTPUT "${outdir}/${name}.h" CONTENT
"/* Generated by compel_add_blob(${name}); do not edit. */
#ifndef COMPEL_BLOB_${cname}_H
#define COMPEL_BLOB_${cname}_H
${umbrella_includes}
/* Every arch this blob was built for, for compel_blob_for_arch(). */
static const struct compel_blob_desc *const ${cname}_blobs[] = {
${umbrella_list}\t0,
};
#endif
")
	add_custom_target(${name}-blob ALL DEPENDS ${headers_out})
	add_library(${name} INTERFACE)
	target_include_directories(${name} INTERFACE "${outdir}")
	add_dependencies(${name} ${name}-blob)
endfunction()
