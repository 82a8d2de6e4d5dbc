#!/usr/bin/env bash
# The SDK examples as a user gets them: install the SDK, build
# compel/examples/{getinfo,fdspy} out of tree against it, run them on a
# 64-bit and a 32-bit victim and compare their output, exactly.
#   examples.sh BUILD_DIR SOURCE_DIR VICTIM64 VICTIM32 WORK_DIR [CMAKE_ARG...]
# CMAKE_ARGs go to the examples' configuration (a sanitized SDK needs its
# compilers and flags).
set -euo pipefail
build=$1 src=$2 victim64=$3 victim32=$4 work=$5
shift 5

rm -rf "$work"
mkdir -p "$work/cwd"
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

victim=
cleanup() { [ -z "$victim" ] || kill -9 "$victim" 2> /dev/null || true; }
trap cleanup EXIT

for v in "$victim64" "$victim32"; do
	(cd "$work/cwd" && ulimit -n 777 && ulimit -c 0 && exec "$v") > "$work/victim.out" &
	victim=$!
	for _ in $(seq 100); do grep -q ready "$work/victim.out" && break; sleep 0.05; done
	stack=$(awk '/^Max stack size/ { print $4, $5 }' "/proc/$victim/limits")

	expected="pid $victim
uid $(id -u) gid $(id -g)
cwd $work/cwd
RLIMIT_NOFILE 777 777
RLIMIT_STACK $stack
RLIMIT_CORE 0 0"
	actual=$("$work/getinfo/getinfo" "$victim")
	if [ "$actual" != "$expected" ]; then
		printf 'FAIL: getinfo on %s printed\n%s\ninstead of\n%s\n' "$v" "$actual" "$expected"
		exit 1
	fi

	expected="fd 5 of pid $victim: secret of $victim"
	actual=$("$work/fdspy/fdspy" "$victim" 5)
	if [ "$actual" != "$expected" ]; then
		printf 'FAIL: fdspy on %s printed\n%s\ninstead of\n%s\n' "$v" "$actual" "$expected"
		exit 1
	fi
	kill -9 "$victim"
	wait "$victim" 2> /dev/null || true
	victim=
	echo "ok: getinfo and fdspy on $(basename "$v")"
done
echo PASS
