# Warnings and sanitizers for code that runs on the host (not for blobs,
# which get their flags from CompelFlags.cmake).

set(CRIU_HOST_WARNINGS -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers)

add_compile_options(
	"$<$<COMPILE_LANGUAGE:C,CXX>:${CRIU_HOST_WARNINGS}>"
	"$<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>")
# GCC on 32-bit ARM notes every std::vector iterator passed by value that
# GCC 7.1 passed differently: nothing here links with code that old.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
	add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-Wno-psabi>")
endif()

# On 32-bit hosts too, an offset in /proc/PID/mem is an address, often
# above 2 GiB, and image files grow past that.
add_compile_definitions(_FILE_OFFSET_BITS=64)

option(CRIU_SANITIZE "Build host code with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(CRIU_SANITIZE)
	add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
	add_link_options(-fsanitize=address,undefined)
endif()

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")
