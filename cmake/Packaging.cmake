# `cpack` (or `cpack --preset <preset>`) makes a .deb for the arch the build
# is for: amd64, i386, arm64 or armhf.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
	set(deb_arch amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(i.86|x86)$")
	set(deb_arch i386)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
	set(deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
	set(deb_arch armhf)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME criu-ng)
set(CPACK_PACKAGE_VENDOR "the criu-ng developers")
set(CPACK_PACKAGE_CONTACT "criu-ng developers <criu-ng@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Listed by hand rather than found by dpkg-shlibdeps, which cannot look into
# the binaries of a cross build.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libelf1, libcapstone4")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "clang-19, lld-19, llvm-19")
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "criu")
include(CPack)
