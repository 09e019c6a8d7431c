#!/bin/sh
# bench.sh EXPORT.sqlite [RUNS] [GATE]: time a full `gate parse` of an Nsight
# Systems export against the sqlite3 command-line tool aggregating the
# columns gate needs (the issue's reference scan), alternating the two RUNS
# times (default 9) after one warm-up each, in one run so that both see the
# same machine. Prints the minimum wall time, CPU and peak RSS of each side,
# the ratio of the minimums and the median of the per-pair ratios.
# Needs sqlite3 and /usr/bin/time; GATE defaults to go build ./cmd/gate.
set -eu
export_file=${1:?usage: bench.sh EXPORT.sqlite [RUNS] [GATE]}
runs=${2:-9}
gate=${3:-}
if [ -z "$gate" ]; then
	gate=$(mktemp -d)/gate
	go build -o "$gate" ./cmd/gate
fi
agg="select count(*), sum(end-start), sum(correlationId), sum(shortName), sum(graphNodeId is not null) from CUPTI_ACTIVITY_KIND_KERNEL; select count(*), total(start), sum(correlationId), total(globalTid) from CUPTI_ACTIVITY_KIND_RUNTIME;"
# The optional tables gate reads, where the export has them: NVTX ranges
# (absent when nothing emitted any) and the GPU's sampled counters.
has() { [ -n "$(sqlite3 "$export_file" "select name from sqlite_master where type = 'table' and name = '$1'")" ]; }
if has NVTX_EVENTS; then
	agg="$agg select count(*), total(start) from NVTX_EVENTS;"
fi
if has GPU_METRICS; then
	agg="$agg select count(*), total(timestamp), total(value), total(metricId), total(typeId) from GPU_METRICS;"
fi
out=$(mktemp)
# one SIDE CMD...: append "SIDE wall user sys maxrss_kb" to $out
one() {
	side=$1
	shift
	/usr/bin/time -f "$side %e %U %S %M" -o "$out.t" "$@" >/dev/null
	cat "$out.t" >>"$out"
}
one warm "$gate" parse "$export_file" -o /dev/null
one warm sqlite3 "$export_file" "$agg"
: >"$out"
i=0
while [ $i -lt "$runs" ]; do
	one gate "$gate" parse "$export_file" -o /dev/null
	one sqlite3 sqlite3 "$export_file" "$agg"
	i=$((i + 1))
done
kernels=$(sqlite3 "$export_file" "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL")
runtime=$(sqlite3 "$export_file" "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME")
echo "export: $export_file ($kernels kernels, $runtime runtime rows), $runs pairs, load $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
	$1 == "gate" { g[++n] = $2; gc[n] = $3 + $4; gm[n] = $5 }
	$1 == "sqlite3" { s[++m] = $2; sc[m] = $3 + $4; sm[m] = $5 }
	function min(a, k,   i, v) { v = a[1]; for (i = 2; i <= k; i++) if (a[i] < v) v = a[i]; return v }
	function max(a, k,   i, v) { v = a[1]; for (i = 2; i <= k; i++) if (a[i] > v) v = a[i]; return v }
	END {
		for (i = 1; i <= n; i++) r[i] = g[i] / s[i]
		# median of the per-pair ratios (insertion sort: n is small)
		for (i = 2; i <= n; i++) { v = r[i]; j = i - 1; while (j >= 1 && r[j] > v) { r[j + 1] = r[j]; j-- }; r[j + 1] = v }
		med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "gate parse:   wall %.3f s  cpu %.3f s  peak RSS %.1f MiB (max %.1f)\n", min(g, n), min(gc, n), min(gm, n) / 1024, max(gm, n) / 1024
		printf "sqlite3 scan: wall %.3f s  cpu %.3f s  peak RSS %.1f MiB\n", min(s, m), min(sc, m), min(sm, m) / 1024
		printf "ratio:        %.2fx (min/min), %.2fx (median of pairs)\n", min(g, n) / min(s, m), med
	}' "$out"
rm -f "$out" "$out.t"
