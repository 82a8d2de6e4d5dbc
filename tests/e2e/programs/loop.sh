# A bash loop: the shell's own state (variables, traps) across a dump and restore.
while [ $# -gt 1 ]; do
	case "$1" in
	--pidfile) pidfile=$2 ;;
	--outfile) outfile=$2 ;;
	esac
	shift 2
done
stop=0
trap 'stop=1' TERM
i=0 squares=0
while [ $stop = 0 ]; do
	# Ready once bash has read the whole loop: its script's offset stays put.
	if [ $i = 0 ]; then
		echo $$ > "$pidfile" # a builtin: no child whose end bash must handle
	fi
	i=$((i + 1))
	squares=$((squares + i * i))
done
if [ $squares -eq $((i * (i + 1) * (2 * i + 1) / 6)) ]; then
	echo PASS > "$outfile"
else
	echo "FAIL: squares to $i add up to $squares" > "$outfile"
fi
