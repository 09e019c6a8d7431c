#!/bin/sh
# bench.sh EXPORT.sqlite [GATE]: time a full `gate parse` of an Nsight Systems
# export against the sqlite3 command-line tool scanning the columns gate reads
# from the two big tables (kernels and CUDA runtime calls). The target
# is gate <= ~3x sqlite3. Needs sqlite3 (apt-get install sqlite3) and a gate
# binary (default: go build ./cmd/gate into a temp dir).
set -eu
export_file=${1:?usage: bench.sh EXPORT.sqlite [GATE]}
gate=${2:-}
if [ -z "$gate" ]; then
	gate=$(mktemp -d)/gate
	go build -o "$gate" ./cmd/gate
fi
runs=${RUNS:-5}
now() { date +%s%N; }
best() { # best-of-$runs wall time of "$@" in ms
	b=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		ms=$(( (t1 - t0) / 1000000 ))
		if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
		i=$((i + 1))
	done
	echo "$b"
}
sqlite_scan() {
	sqlite3 "$export_file" \
		"SELECT start, end, deviceId, correlationId, globalPid, shortName, demangledName, graphNodeId IS NOT NULL FROM CUPTI_ACTIVITY_KIND_KERNEL;" \
		"SELECT start, end, globalTid, correlationId, nameId FROM CUPTI_ACTIVITY_KIND_RUNTIME;"
}
kernels=$(sqlite3 "$export_file" "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL")
runtime=$(sqlite3 "$export_file" "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME")
s=$(best sqlite_scan)
g=$(best "$gate" parse "$export_file" -o /dev/null)
echo "export:  $export_file ($kernels kernels, $runtime runtime rows)"
echo "sqlite3: ${s} ms (best of $runs, scanning the same columns)"
echo "gate:    ${g} ms (best of $runs, full gate parse)"
awk -v g="$g" -v s="$s" 'BEGIN { if (s > 0) printf "ratio:   %.2fx\n", g / s }'
