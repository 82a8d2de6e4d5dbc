# Background jobs of a bash script: two subshells that keep computing while
# the script does too, then waits for them with `wait`.  Each job checks its
# own sum and says so by its exit status; the script checks both and its
# own sum.  (Not dumped inside `wait`: bash sleeps there in sigsuspend, with
# a signal mask of the moment that the runner cannot compare.)
while [ $# -gt 1 ]; do
	case "$1" in
	--pidfile) pidfile=$2 ;;
	--outfile) outfile=$2 ;;
	esac
	shift 2
done
# Each job says it runs with a file named by its pid, and the script's own job
# tells the runner that all is ready 2000 rounds after it saw all of them
# (by when the jobs have closed the files: builtins write them, so no child
# ends that bash must handle).
job() {
	stop=0 seen=0
	trap 'stop=1' TERM
	i=0 sum=0
	while [ $stop = 0 ]; do
		i=$((i + 1))
		sum=$((sum + $1 * i))
		if [ $i = 1000 ]; then
			: > "$pidfile.$BASHPID"
		fi
		if [ -n "$2" ] && [ $seen = 0 ] && [ -e "$pidfile.$first" ] && [ -e "$pidfile.$second" ] &&
			[ -e "$pidfile.$third" ]; then
			seen=$i
		fi
		if [ -n "$2" ] && [ $seen != 0 ] && [ $i = $((seen + 2000)) ]; then
			echo $2 > "$pidfile"
		fi
	done
	[ $sum -eq $(($1 * i * (i + 1) / 2)) ]
}
stop=0
trap 'stop=1' TERM
job 5 &
second=$!
job 3 &
first=$!
job 11 &
third=$!
job 7 $$
mine=$?
kill -TERM $first $second $third
wait $first
a=$?
wait $second
b=$?
wait $third
c=$?
rm -f "$pidfile.$first" "$pidfile.$second" "$pidfile.$third"
if [ $a = 0 ] && [ $b = 0 ] && [ $c = 0 ] && [ $mine = 0 ]; then
	echo PASS > "$outfile"
else
	echo "FAIL: the jobs say $a, $b and $c, the script $mine" > "$outfile"
fi
