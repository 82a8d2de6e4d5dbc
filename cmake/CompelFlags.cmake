# The one description of how blobs are compiled and linked, per blob arch.
#
# compel_add_blob() (cmake/Compel.cmake) and `compel cflags|ldflags` both read
# these lists, so a blob built by CMake and one built by hand with the flags
# `compel` prints are built the same way.  Include directories are not listed
# here: they depend on where the SDK lives (build tree or install prefix).

set(COMPEL_ARCHES x86_64 i386 arm thumb aarch64)

# Target triple per blob arch; `thumb` is ARM32 code in the Thumb-2 set.
set(COMPEL_TRIPLE_x86_64 x86_64-linux-gnu)
set(COMPEL_TRIPLE_i386 i386-linux-gnu)
set(COMPEL_TRIPLE_arm armv7a-linux-gnueabihf)
set(COMPEL_TRIPLE_thumb armv7a-linux-gnueabihf)
set(COMPEL_TRIPLE_aarch64 aarch64-linux-gnu)

# The arch/ folder that holds each blob arch's entry code and syscall stub.
set(COMPEL_ARCH_DIR_x86_64 x86)
set(COMPEL_ARCH_DIR_i386 x86)
set(COMPEL_ARCH_DIR_arm arm)
set(COMPEL_ARCH_DIR_thumb arm)
set(COMPEL_ARCH_DIR_aarch64 aarch64)

# Blob code runs inside another process: no libc headers, no stack
# protector (the canary lives in the victim's TLS), no unwind tables, no
# floating point or vector registers (the victim's FPU state stays as it was
# while the parasite runs), position-independent.
set(COMPEL_CFLAGS_COMMON
	-O2 -fPIE -ffreestanding -nostdlibinc
	-fno-stack-protector
	-fno-asynchronous-unwind-tables -fno-unwind-tables
	-fno-common -fno-exceptions
	-fcf-protection=none)
set(COMPEL_CFLAGS_x86_64 -mgeneral-regs-only)
set(COMPEL_CFLAGS_i386 -mgeneral-regs-only)
set(COMPEL_CFLAGS_arm -marm -mfloat-abi=soft)
set(COMPEL_CFLAGS_thumb -mthumb -mfloat-abi=soft -fomit-frame-pointer)
set(COMPEL_CFLAGS_aarch64 -mgeneral-regs-only)

# Flags for C sources only, and for C++ sources only.
set(COMPEL_CFLAGS_C -std=gnu11)
set(COMPEL_CXXFLAGS -std=gnu++20 -fno-rtti -fno-threadsafe-statics -nostdinc++)

# Every blob is one static position-independent image linked at 0 with the
# arch's script from compel/ld: code and read-only data first, then data.
set(COMPEL_LDFLAGS
	-pie --no-dynamic-linker -z max-page-size=4096 -z noexecstack
	--no-undefined --build-id=none --hash-style=sysv
	-e 0) # a blob has exports, not one entry point

# Added for a parasite (compel_add_blob(... PARASITE)): pulls the std
# plugin's parasite runtime (entry, command and daemon loop) out of libstd.a.
set(COMPEL_PARASITE_LDFLAGS -u __export_compel_entry)

# The blob arch of code compiled for a CMAKE_SYSTEM_PROCESSOR value (ARM
# hosts run ARM-mode code).
function(compel_arch_of_processor out processor)
	if(processor MATCHES "^(x86_64|AMD64|amd64)$")
		set(a x86_64)
	elseif(processor MATCHES "^(i.86|x86)$")
		set(a i386)
	elseif(processor MATCHES "^(aarch64|arm64)$")
		set(a aarch64)
	elseif(processor MATCHES "^arm")
		set(a arm)
	else()
		message(FATAL_ERROR "compel: unsupported processor '${processor}'")
	endif()
	set(${out} ${a} PARENT_SCOPE)
endfunction()
