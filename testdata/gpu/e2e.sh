#!/bin/bash
# End-to-end check of gate's GPU-facing parts on a GPU machine (issue 5), in
# one batched run of about 8 minutes. Run from the repository root with:
#
#   .gpu/        the contents of ../shared/device (nsys-setup.sh, libs/,
#                llm_workload.py) plus the gate binary: go build -o .gpu/gate ./cmd/gate
#   $OUT         an empty folder; at most 8 files come back from it
#
#   bash testdata/gpu/e2e.sh
#
# Every step runs even when an earlier one failed; each logs its command,
# exit code and time to $OUT/log.txt. What it leaves in $OUT:
#
#   log.txt                    every step's command, output tail, exit code, seconds
#   gpu.txt                    gate profile --preflight-only, nvidia-smi -q excerpt, tool versions
#   base.summary.json          gate profile of the workload (baseline)
#   double_attn.summary.json   gate profile of --regress double-attn
#   compare.md                 gate compare base head, markdown (exit code in log.txt)
#   ncu.summary.json           gate profile --with-ncu --ncu-top 5 of the baseline
#   bench.sqlite.xz            1500 eager decode steps, 1 request: the parse benchmark's export
#   extras.tar.xz              ncu.csv, the base/double-attn exports, compare.json, workload stdout
#
# Environment overrides (for a dry run on a CPU, see dryrun.sh): GATE, NSYS,
# NCU, PY, WORKLOAD, BUDGET_S (total seconds, default 540), BENCH_STEPS.
set -u
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
WORK=${WORK:-$(mktemp -d /tmp/gate-e2e.XXXXXX)}
mkdir -p "$WORK"
LOG="$OUT/log.txt"
START=$(date +%s)
BUDGET_S=${BUDGET_S:-540}
BENCH_STEPS=${BENCH_STEPS:-1500}
GATE=${GATE:-.gpu/gate}
PY=${PY:-python3}
WORKLOAD=${WORKLOAD:-.gpu/llm_workload.py}
: >"$LOG"

# log, step, rc_of
. "$(dirname "$0")/steps.sh"

log "gate e2e: OUT=$OUT WORK=$WORK budget ${BUDGET_S}s"

# --- tools ------------------------------------------------------------------
if [ -z "${NSYS:-}" ]; then
	NSYS=$(bash .gpu/nsys-setup.sh 2>>"$LOG" | tail -1)
fi
if [ -z "${NCU:-}" ]; then
	NCU=$(ls -d /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | sort -V | tail -1)
fi
log "gate=$GATE nsys=$NSYS ncu=$NCU"
{
	echo "== gate version"; "$GATE" version 2>&1
	echo "== nsys --version"; "$NSYS" --version 2>&1
	echo "== ncu --version"; "$NCU" --version 2>&1
	echo "== python / torch"; "$PY" -c 'import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda)' 2>&1
} >"$WORK/versions.txt"
cat "$WORK/versions.txt" >>"$LOG"

# --- fingerprint ------------------------------------------------------------
step preflight 30 "$GATE" profile --preflight-only
step smi 30 nvidia-smi -q
{
	echo "== gate profile --preflight-only (exit $(rc_of preflight))"
	cat "$WORK/preflight.out"
	echo
	echo "== nvidia-smi -q (excerpt)"
	grep -E -A0 'Driver Version|CUDA Version|Product Name|GPU UUID|Bus Width|Memory Clock|Max Clocks|Clocks Event Reasons|Clocks Throttle Reasons|Idle|Sw Power Cap|Hw Slowdown|Sw Thermal|Hw Thermal|GPU Current Temp|Processes|Persistence Mode|MIG Mode|Current  *:' "$WORK/smi.out" | head -80
	sed -n '/^    Max Clocks/,/^    [A-Z]/p' "$WORK/smi.out" | head -8
	echo
	cat "$WORK/versions.txt"
} >"$OUT/gpu.txt"

# --- gate profile: baseline and regression ----------------------------------
step base 110 "$GATE" profile --out "$WORK/base" --nsys "$NSYS" --scope benchmark -- "$PY" "$WORKLOAD"
cp "$WORK/base/summary.json" "$OUT/base.summary.json" 2>>"$LOG"
step double_attn 110 "$GATE" profile --out "$WORK/double_attn" --nsys "$NSYS" --scope benchmark -- "$PY" "$WORKLOAD" --regress double-attn
cp "$WORK/double_attn/summary.json" "$OUT/double_attn.summary.json" 2>>"$LOG"

# --- gate compare -----------------------------------------------------------
step compare 30 "$GATE" compare -o "$OUT/compare.md" "$WORK/base/summary.json" "$WORK/double_attn/summary.json"
step compare_json 30 "$GATE" compare --format json -o "$WORK/compare.json" "$WORK/base/summary.json" "$WORK/double_attn/summary.json"
log "compare exit code: $(rc_of compare) (want 1: regression)"
grep -n -i -E 'decode|attention' "$OUT/compare.md" 2>/dev/null | head -20 | sed 's/^/    /' >>"$LOG"

# --- a failing workload keeps its exit code ---------------------------------
step failing 60 "$GATE" profile --out "$WORK/failing" --nsys "$NSYS" -- "$PY" -c 'import sys; print("failing on purpose"); sys.exit(3)'
log "failing workload: gate exit $(rc_of failing) (want 2, message naming code 3)"

# --- gate profile --with-ncu ------------------------------------------------
step ncu 170 "$GATE" profile --out "$WORK/ncu" --nsys "$NSYS" --ncu "$NCU" --with-ncu --ncu-top 5 --scope benchmark -- "$PY" "$WORKLOAD"
if ! grep -q '"bandwidth"' "$WORK/ncu/summary.json" 2>/dev/null; then
	# The NVTX filter may have matched nothing: measure without it, skipping
	# the warm-up launches instead.
	log "no bandwidth section with --scope: retrying ncu without the NVTX filter"
	step ncu_noscope 150 "$GATE" profile --out "$WORK/ncu" --nsys "$NSYS" --ncu "$NCU" --with-ncu --ncu-top 5 --ncu-skip 2 -- "$PY" "$WORKLOAD"
fi
cp "$WORK/ncu/summary.json" "$OUT/ncu.summary.json" 2>>"$LOG"

# The figures to read in the log: fingerprint, peak, decode span, bandwidth.
"$PY" - "$OUT" >>"$LOG" 2>&1 <<'PYEOF'
import json, os, sys
out = sys.argv[1]
for name in ["base", "double_attn", "ncu"]:
    try:
        s = json.load(open(os.path.join(out, name + ".summary.json")))
    except Exception as e:
        print(f"  {name}: no summary ({e})"); continue
    g, n = s.get("gpu", {}), s.get("gpu", {}).get("nvml") or {}
    d = (s.get("phases") or {}).get("decode") or {}
    print(f"  {name}: gpu {g.get('name')} peak {g.get('peak_bandwidth_bps', 0)/1e12:.3f} TB/s; "
          f"nvml {n.get('available')} {n.get('name')} driver {n.get('driver')} cuda {n.get('cuda_driver')} "
          f"bus {n.get('bus_width_bits')} bit max mem {n.get('max_mem_clock_mhz')} MHz -> {n.get('peak_bandwidth_bps', 0)/1e12:.3f} TB/s, "
          f"sm {n.get('sm_clock_mhz')} MHz, reasons {n.get('throttle_reasons')}, {n.get('temperature_c')} C, others {n.get('other_processes')}")
    print(f"    decode steps {d.get('steps')} span p50 {(d.get('span_ns') or {}).get('p50', 0)/1e3:.1f} us; warnings {[w['code'] for w in s.get('warnings') or []]}")
    bw = s.get("bandwidth")
    if bw:
        print(f"    bandwidth from {bw.get('source')}, peak {bw.get('peak_bandwidth_bps', 0)/1e12:.3f} TB/s")
        for k in bw.get("kernels", []):
            print(f"      {k['name'][:60]:60} x{k['launches']:<3} {k['duration_ns']/1e3:8.1f} us {(k['bytes_read']+k['bytes_written'])/1e6:9.2f} MB {k['gbps']:8.1f} GB/s {k['pct_peak']:5.1f}% sm {k['sm_pct']:5.1f}% {k['bound']}")
PYEOF

# --- the parse benchmark's big export ---------------------------------------
step bench 200 "$NSYS" profile -t cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node --export=sqlite -f true \
	-o "$WORK/bench" "$PY" "$WORKLOAD" --steps "$BENCH_STEPS" --requests 1 --graphs none
ls -l "$WORK"/bench.* >>"$LOG" 2>&1
step bench_xz 60 xz -T0 -6 -k -f "$WORK/bench.sqlite"
mv "$WORK/bench.sqlite.xz" "$OUT/" 2>>"$LOG"
step bench_parse 60 "$GATE" parse -o "$WORK/bench.summary.json" "$WORK/bench.sqlite"

# --- extras -----------------------------------------------------------------
mkdir -p "$WORK/extras"
for f in ncu/ncu.csv base/profile.sqlite double_attn/profile.sqlite compare.json bench.summary.json; do
	[ -f "$WORK/$f" ] && cp "$WORK/$f" "$WORK/extras/${f//\//_}"
done
for s in base double_attn ncu failing; do
	[ -f "$WORK/$s.out" ] && cp "$WORK/$s.out" "$WORK/extras/$s.stdout.txt"
done
tar -C "$WORK/extras" -cf - . | xz -T0 -6 >"$OUT/extras.tar.xz"

log "summary of exit codes: preflight=$(rc_of preflight) base=$(rc_of base) double_attn=$(rc_of double_attn) compare=$(rc_of compare) failing=$(rc_of failing) ncu=$(rc_of ncu) bench=$(rc_of bench) bench_parse=$(rc_of bench_parse)"
ls -l "$OUT" | tee -a "$LOG" >&2
log "done"
