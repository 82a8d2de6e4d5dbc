# cmake -DBUILD_DIR=... -DARCH=<deb arch> -P check-package.cmake
# Runs cpack in a scratch directory and checks the .deb it makes.
set(out "${BUILD_DIR}/package-test")
file(REMOVE_RECURSE "${out}")
execute_process(COMMAND cpack -G DEB -B "${out}" --config "${BUILD_DIR}/CPackConfig.cmake"
	RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "cpack failed:\n${log}")
endif()
file(GLOB debs "${out}/*.deb")
list(LENGTH debs n)
if(NOT n EQUAL 1)
	message(FATAL_ERROR "expected one .deb in ${out}, found ${n}")
endif()
execute_process(COMMAND dpkg-deb --field ${debs} Architecture OUTPUT_VARIABLE arch
	OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT arch STREQUAL ARCH)
	message(FATAL_ERROR "${debs} is for '${arch}', not '${ARCH}'")
endif()
execute_process(COMMAND dpkg-deb --contents ${debs} OUTPUT_VARIABLE files)
foreach(f ./usr/bin/compel ./usr/include/compel/blob.h ./usr/lib/cmake/Compel/CompelConfig.cmake
		./usr/lib/compel/blob.lds)
	string(FIND "${files}" "${f}" at)
	if(at EQUAL -1)
		message(FATAL_ERROR "${debs} lacks ${f}:\n${files}")
	endif()
endforeach()
message(STATUS "${debs}: ${arch}, with compel, headers and the CMake package")
