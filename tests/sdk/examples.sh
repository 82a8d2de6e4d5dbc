#!/usr/bin/env bash
# The SDK examples as a user gets them: install the SDK, build
# compel/examples/{getinfo,fdspy} out of tree against it, and run them on a
# victim of each build given (examples-check compares their output with the
# victim, exactly).
#   examples.sh BUILD_DIR SOURCE_DIR WORK_DIR EXAMPLES_CHECK VICTIM... [-- CMAKE_ARG...]
# CMAKE_ARGs go to the examples' configuration (a sanitized SDK needs its
# compilers and flags).
set -euo pipefail
build=$1 src=$2 work=$3 checker=$4
shift 4
victims=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	victims+=("$1")
	shift
done
[ $# -eq 0 ] || shift

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
for ex in getinfo fdspy; do
	if ! { cmake -S "$src/compel/examples/$ex" -B "$work/$ex" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" "$@" &&
		cmake --build "$work/$ex"; } > "$work/$ex.log" 2>&1; then
		cat "$work/$ex.log"
		echo "FAIL: the $ex example does not build against the installed SDK"
		exit 1
	fi
done

# pkg-config users find the same library and headers, wherever the SDK is.
pc=$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --libs --cflags compel)
inc=$(readlink -f "$(sed -n 's/.*-I\([^ ]*\).*/\1/p' <<< "$pc")")
lib=$(readlink -f "$(sed -n 's/.*-L\([^ ]*\).*/\1/p' <<< "$pc")")
if [ "$inc" != "$work/prefix/include" ] || [ "$lib" != "$work/prefix/lib" ] || [[ "$pc" != *-lcompel* ]]; then
	echo "FAIL: pkg-config says '$pc' for compel"
	exit 1
fi

"$checker" "$work/getinfo/getinfo" "$work/fdspy/fdspy" "${victims[@]}"
