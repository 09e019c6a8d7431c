# Shared by the GPU-machine scripts (e2e.sh, gpumetrics.sh): each step runs
# with a time limit inside the run's budget, its output to WORK/NAME.out,
# the tail of it and its exit code to LOG. Source it after setting LOG,
# WORK, START (date +%s) and BUDGET_S; STEP_TAIL is how many lines of a
# step's output go to the log (default 40).

log() { echo "[$(($(date +%s) - START))s] $*" | tee -a "$LOG" >&2; }

# step NAME LIMIT_S CMD...: run CMD with a time limit (never past the budget),
# output to WORK/NAME.out, tail and exit code to the log. Never fails.
step() {
	local name=$1 limit=$2
	shift 2
	local left=$((BUDGET_S - ($(date +%s) - START)))
	[ "$limit" -gt "$left" ] && limit=$left
	if [ "$limit" -le 5 ]; then
		log "SKIP $name: out of time budget"
		echo skipped >"$WORK/$name.rc"
		return 0
	fi
	log "STEP $name (limit ${limit}s): $*"
	local t0=$(date +%s) rc
	timeout -k 10 "$limit" "$@" >"$WORK/$name.out" 2>&1
	rc=$?
	tail -n "${STEP_TAIL:-40}" "$WORK/$name.out" | sed 's/^/    /' >>"$LOG"
	echo "$rc" >"$WORK/$name.rc"
	log "END $name: exit $rc in $(($(date +%s) - t0))s"
	return 0
}

rc_of() { cat "$WORK/$1.rc" 2>/dev/null || echo none; }
