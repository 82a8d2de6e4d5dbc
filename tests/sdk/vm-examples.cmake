# The SDK examples on an ARM host, in the ARM test VMs: their sources built
# in this tree, statically (the VMs have neither shared libraries nor a
# shell to build with), and run on a victim of each arch the host traces.
set(ex "${CMAKE_SOURCE_DIR}/compel/examples")
set(parasite_arches_aarch64 aarch64 arm)
set(parasite_arches_arm arm)
compel_add_blob(getinfo-parasite
	ARCH ${parasite_arches_${COMPEL_NATIVE_ARCH}}
	PARASITE
	SOURCES "${ex}/getinfo/parasite.c"
	SHARED_HEADERS "${ex}/getinfo/getinfo.h")
compel_add_blob(fdspy-parasite
	ARCH ${parasite_arches_${COMPEL_NATIVE_ARCH}}
	PARASITE
	SOURCES "${ex}/fdspy/parasite.c"
	PLUGINS fds
	SHARED_HEADERS "${ex}/fdspy/fdspy.h")
add_executable(getinfo "${ex}/getinfo/main.c")
target_link_libraries(getinfo PRIVATE libcompel-static getinfo-parasite)
add_executable(fdspy "${ex}/fdspy/main.cpp")
target_link_libraries(fdspy PRIVATE libcompel-static fdspy-parasite)
add_executable(examples-check examples-check.c)
foreach(program getinfo fdspy examples-check)
	target_link_options(${program} PRIVATE -static)
	set_target_properties(${program} PROPERTIES COMPEL_STATIC_PROGRAM ON)
endforeach()

set(check $<TARGET_FILE:examples-check> /bin/getinfo /bin/fdspy)
set(files $<TARGET_FILE:getinfo> $<TARGET_FILE:fdspy>)
multiarch_add_program(examples-victim.arm ARCH arm SOURCES examples-victim.c)
if(COMPEL_NATIVE_ARCH STREQUAL "aarch64")
	multiarch_add_program(examples-victim.aarch64 ARCH aarch64 SOURCES examples-victim.c)
	multiarch_add_payload(NAME compel.examples.aarch64 GUEST aarch64
		COMMAND ${check} /bin/examples-victim.aarch64
		FILES ${files} "${CMAKE_CURRENT_BINARY_DIR}/examples-victim.aarch64")
	set(arm_guests armhf-on-aarch64)
else()
	set(arm_guests armhf-on-arm armhf-on-aarch64)
endif()
multiarch_add_payload(NAME compel.examples.arm GUEST ${arm_guests}
	COMMAND ${check} /bin/examples-victim.arm
	FILES ${files} "${CMAKE_CURRENT_BINARY_DIR}/examples-victim.arm")
