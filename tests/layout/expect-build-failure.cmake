# cmake -DSOURCE=dir -DBINARY=dir -DEXPECT=regex -DARGS=... -P expect-build-failure.cmake
# Configures and builds SOURCE; passes only if the build fails with output
# matching EXPECT.
file(REMOVE_RECURSE "${BINARY}")
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${BINARY}" -G Ninja ${args}
	RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "configure failed instead of the build:\n${out}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY}"
	RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
	message(FATAL_ERROR "the build succeeded but must fail:\n${out}")
endif()
if(NOT out MATCHES "${EXPECT}")
	message(FATAL_ERROR "the build failed, but not with '${EXPECT}':\n${out}")
endif()
message(STATUS "the build failed as expected")
