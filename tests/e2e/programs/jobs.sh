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
# The script's own job tells the runner that all is ready (a builtin
# writes the file: no child whose end bash must handle).
job() {
	stop=0
	trap 'stop=1' TERM
	i=0 sum=0
	while [ $stop = 0 ]; do
		i=$((i + 1))
		sum=$((sum + $1 * i))
		if [ $i = 2000 ] && [ -n "$2" ]; then
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
if [ $a = 0 ] && [ $b = 0 ] && [ $c = 0 ] && [ $mine = 0 ]; then
	echo PASS > "$outfile"
else
	echo "FAIL: the jobs say $a, $b and $c, the script $mine" > "$outfile"
fi
