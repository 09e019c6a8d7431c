#!/bin/bash
# GPU-metrics sampling on a GPU machine (issue 16), one batched run of about
# 3 minutes: `gate profile` (which samples the GPU's counters by default) of
# the base workload twice and of --regress kv-fp32, then `gate compare` of
# base vs base (must pass) and base vs kv-fp32 (must fail on decode memory
# traffic), the export sizes at gate's default frequency, and gate parse's
# time against a Python sqlite3 aggregate scan of the same tables. Run from
# the repository root with:
#
#   .gpu/        the contents of ../shared/device (nsys-setup.sh, libs/,
#                llm_workload.py) plus the gate binary: go build -o .gpu/gate ./cmd/gate
#                (built here when .gpu/gate is missing and go is on the PATH)
#   $OUT         an empty folder; at most 8 files come back from it
#
#   bash testdata/gpu/gpumetrics.sh
#
# Every step runs even when an earlier one failed; each logs its command,
# exit code and time to $OUT/log.txt, which ends with the figures to read.
# What it leaves in $OUT:
#
#   log.txt                the steps, then the decode figures, sizes and timings
#   base1.summary.json     gate profile of the workload
#   base2.summary.json     the same code again
#   kv.summary.json        gate profile of --regress kv-fp32
#   same.md                gate compare base1 base2 (exit code in log.txt; want 0)
#   kv.md                  gate compare base1 kv (want 1, naming decode DRAM traffic)
#   kv.html                the same as HTML: the typical decode step charted
#   extras.tar.xz          compare JSONs, nsys logs, and the exports where they fit
#
# Environment overrides (for a dry run on a CPU, see gpumetrics-dryrun.sh):
# GATE, NSYS, PY, WORKLOAD, BUDGET_S (total seconds, default 540).
set -u
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
WORK=${WORK:-$(mktemp -d /tmp/gate-gm.XXXXXX)}
mkdir -p "$WORK"
LOG="$OUT/log.txt"
START=$(date +%s)
BUDGET_S=${BUDGET_S:-540}
GATE=${GATE:-.gpu/gate}
PY=${PY:-python3}
WORKLOAD=${WORKLOAD:-.gpu/llm_workload.py}
: >"$LOG"

STEP_TAIL=25
# log, step, rc_of
. "$(dirname "$0")/steps.sh"

log "gate gpu-metrics run: OUT=$OUT WORK=$WORK budget ${BUDGET_S}s"

# --- tools ------------------------------------------------------------------
if [ ! -x "$GATE" ] && command -v go >/dev/null; then
	step build 120 go build -o "$WORK/gate" ./cmd/gate
	GATE=$WORK/gate
fi
if [ -z "${NSYS:-}" ]; then
	NSYS=$(bash .gpu/nsys-setup.sh 2>>"$LOG" | tail -1)
fi
log "gate=$GATE nsys=$NSYS"
{
	echo "== gate version"; "$GATE" version 2>&1
	echo "== nsys --version"; "$NSYS" --version 2>&1
	echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv 2>&1
	echo "== profiling restricted to admin (RmProfilingAdminOnly)"; grep RmProfilingAdminOnly /proc/driver/nvidia/params 2>&1
	echo "== user"; id
} >>"$LOG" 2>&1

# --- gate profile: base twice, kv-fp32 ---------------------------------------
for run in base1 base2 kv; do
	regress=()
	[ "$run" = kv ] && regress=(--regress kv-fp32)
	step "$run" 120 "$GATE" profile --out "$WORK/$run" --nsys "$NSYS" --scope benchmark -- "$PY" "$WORKLOAD" "${regress[@]}"
	cp "$WORK/$run/summary.json" "$OUT/$run.summary.json" 2>>"$LOG"
	ls -l "$WORK/$run" >>"$LOG" 2>&1
done

# --- gate compare -----------------------------------------------------------
step same 30 "$GATE" compare -o "$OUT/same.md" "$WORK/base1/summary.json" "$WORK/base2/summary.json"
step same_json 30 "$GATE" compare --format json -o "$WORK/same.json" "$WORK/base1/summary.json" "$WORK/base2/summary.json"
step kv_md 30 "$GATE" compare -o "$OUT/kv.md" "$WORK/base1/summary.json" "$WORK/kv/summary.json"
step kv_html 30 "$GATE" compare --format html -o "$OUT/kv.html" "$WORK/base1/summary.json" "$WORK/kv/summary.json"
step kv_json 30 "$GATE" compare --format json -o "$WORK/kv.json" "$WORK/base1/summary.json" "$WORK/kv/summary.json"
log "compare exit codes: same $(rc_of same) (want 0), kv $(rc_of kv_md) (want 1)"
grep -n -i -E 'gate: |DRAM|memory-bound|moves more' "$OUT/kv.md" 2>/dev/null | head -12 | sed 's/^/    /' >>"$LOG"

# --- parse speed on an export with samples ----------------------------------
export_of() { echo "$WORK/$1/profile.sqlite"; }
if [ -f "$(export_of base1)" ]; then
	# Alternated in one run; bash's time, since /usr/bin/time may be absent.
	for i in 1 2 3; do
		step "parse_$i" 60 bash -c 'TIMEFORMAT="parse wall %R s"; time "$0" parse -o /dev/null "$1"' "$GATE" "$(export_of base1)"
		step "scan_$i" 60 "$PY" - "$(export_of base1)" <<'PYEOF'
import sqlite3, sys, time
t = time.time()
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro&immutable=1", uri=True)
for q in ["select count(*), sum(end-start), sum(correlationId), sum(shortName), sum(graphNodeId is not null) from CUPTI_ACTIVITY_KIND_KERNEL",
          "select count(*), total(start), sum(correlationId), total(globalTid) from CUPTI_ACTIVITY_KIND_RUNTIME",
          "select count(*), total(start) from NVTX_EVENTS",
          "select count(*), total(timestamp), total(typeId), sum(metricId), sum(value) from GPU_METRICS"]:
    print(db.execute(q).fetchone())
print("scan wall %.3f s" % (time.time() - t))
PYEOF
	done
	for i in 1 2 3; do
		log "round $i: $(grep -h -o 'parse wall [0-9.]* s' "$WORK/parse_$i.out") against the $(grep -h -o 'scan wall [0-9.]* s' "$WORK/scan_$i.out")"
	done
fi

# --- the figures to read ----------------------------------------------------
"$PY" - "$OUT" "$WORK" >>"$LOG" 2>&1 <<'PYEOF'
import json, os, sys
out, work = sys.argv[1], sys.argv[2]
for name in ["base1", "base2", "kv"]:
    try:
        s = json.load(open(os.path.join(out, name + ".summary.json")))
    except Exception as e:
        print(f"  {name}: no summary ({e})"); continue
    exp = os.path.join(work, name, "profile.sqlite")
    size = os.path.getsize(exp) / 1e6 if os.path.exists(exp) else 0
    g = s.get("gpu_metrics")
    ws = [w["code"] + ": " + w["message"][:160] for w in s.get("warnings") or []]
    print(f"  {name}: export {size:.1f} MB, peak {s['gpu'].get('peak_bandwidth_bps', 0)/1e12:.3f} TB/s, warnings {ws}")
    if not g:
        print("    no gpu_metrics"); continue
    print(f"    sampled at {g['frequency_hz']:.0f} Hz: {[m['name'] for m in g['metrics']]}")
    for p in g["phases"]:
        span = s["phases"][p["phase"]]["span_ns"]["p50"] / 1e3
        tr = p.get("typical_step") or {}
        print(f"    {p['phase']:8} {p['steps']:4} steps span {span:9.1f} us: read {p['dram_read_pct']['p50']:5.2f}% {p['dram_read_bytes']['p50']/1e6:9.1f} MB/step, "
              f"write {p['dram_write_pct']['p50']:5.2f}% {p['dram_write_bytes']['p50']/1e6:8.1f} MB/step, SMs {p['sm_active_pct']['p50']:5.2f}%, "
              f"tensor {p['tensor_active_pct']['p50']:5.2f}%, PCIe rx/tx {p['pcie_rx_pct']['p50']:.2f}/{p['pcie_tx_pct']['p50']:.2f}%, "
              f"clock min/median {p['gpc_clock_min_mhz']:.0f}/{p['gpc_clock_median_mhz']:.0f} MHz, typical step {len(tr.get('samples', []))} samples")
for name in ["same", "kv"]:
    try:
        r = json.load(open(os.path.join(work, name + ".json")))
    except Exception as e:
        print(f"  compare {name}: no result ({e})"); continue
    print(f"  compare {name}: {r['verdict']} {r['counts']}; regressions {[f['metric'] for f in r.get('regressions') or []][:8]}")
    for p in (r.get("sampling") or {}).get("phases", []):
        print(f"    {p['phase']}: cause {p.get('cause', '')!r}, bound {(p.get('base') or {}).get('bound')} -> {(p.get('head') or {}).get('bound')}")
PYEOF

# --- extras -----------------------------------------------------------------
mkdir -p "$WORK/extras"
for f in same.json kv.json; do
	[ -f "$WORK/$f" ] && cp "$WORK/$f" "$WORK/extras/"
done
for run in base1 base2 kv; do
	[ -f "$WORK/$run/nsys.log" ] && cp "$WORK/$run/nsys.log" "$WORK/extras/$run.nsys.log"
	[ -f "$WORK/$run.out" ] && cp "$WORK/$run.out" "$WORK/extras/$run.gate.txt"
done
tar -C "$WORK/extras" -cf - . | xz -T0 -6 >"$WORK/extras.tar.xz"
# The exports themselves, if the archive stays under 15 MiB with them.
for run in base1 base2 kv; do
	[ -f "$(export_of $run)" ] && cp "$(export_of $run)" "$WORK/extras/$run.sqlite"
done
tar -C "$WORK/extras" -cf - . | xz -T0 -6 >"$WORK/extras-all.tar.xz"
if [ "$(stat -c %s "$WORK/extras-all.tar.xz")" -lt $((15 << 20)) ]; then
	mv "$WORK/extras-all.tar.xz" "$OUT/extras.tar.xz"
else
	log "exports left out of extras.tar.xz: $(stat -c %s "$WORK/extras-all.tar.xz") bytes with them"
	mv "$WORK/extras.tar.xz" "$OUT/extras.tar.xz"
fi

log "summary of exit codes: base1=$(rc_of base1) base2=$(rc_of base2) kv=$(rc_of kv) same=$(rc_of same) kv_compare=$(rc_of kv_md)"
ls -l "$OUT" | tee -a "$LOG" >&2
log "done"
