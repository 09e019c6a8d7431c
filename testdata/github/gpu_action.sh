#!/bin/bash
# GPU smoke test of `gate action` in profile mode, run the way the host path of
# docs/action.md runs it: the gate binary with INPUT_* variables and the
# runner's env files, no Docker, no token. About 4 minutes on the H200 device.
# From the repository root, with .gpu/ prepared as for testdata/gpu/e2e.sh
# (../shared/device copied there, plus the binary: go build -o .gpu/gate ./cmd/gate):
#
#   OUT=/some/empty/dir bash testdata/github/gpu_action.sh
#
# Two steps: the baseline (no baseline yet: verdict no_baseline, exit 3), then
# --regress double-attn against it (verdict fail, exit 1). Each step's
# outputs, job summary and log come back in $OUT (6 files), with a verdict
# line per step in $OUT/action.log.
set -u
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
GATE=${GATE:-.gpu/gate}
PY=${PY:-python3}
WORKLOAD=${WORKLOAD:-.gpu/llm_workload.py}
if [ -z "${NSYS:-}" ]; then
	NSYS=$(bash .gpu/nsys-setup.sh | tail -1)
fi
# gate action finds nsys on the PATH, as in the action's image.
PATH="$(dirname "$NSYS"):$PATH"
export PATH
W=$(mktemp -d /tmp/gate-action.XXXXXX)
LOG="$OUT/action.log"
: >"$LOG"

# step NAME WANT_EXIT COMMAND [BASELINE]
step() {
	local name=$1 want=$2 cmd=$3 baseline=${4:-} rc t0
	t0=$(date +%s)
	env GITHUB_ACTIONS=true GITHUB_WORKSPACE="$PWD" GITHUB_EVENT_NAME=push \
		GITHUB_OUTPUT="$W/$name.outputs" GITHUB_STEP_SUMMARY="$W/$name.summary.md" \
		INPUT_MODE=profile INPUT_COMMAND="$cmd" INPUT_SCOPE=benchmark \
		INPUT_BASELINE="$baseline" INPUT_COMMENT=never INPUT_CHECK-RUN=false \
		INPUT_OUTPUT-DIR="$W/$name" \
		timeout -k 10 200 "$GATE" action >"$W/$name.log" 2>&1
	rc=$?
	echo "$name: exit $rc (want $want) in $(($(date +%s) - t0))s; $(grep -A1 '^verdict<<' "$W/$name.outputs" 2>/dev/null | tail -1)" | tee -a "$LOG"
	cp "$W/$name.outputs" "$OUT/$name.outputs" 2>/dev/null
	cp "$W/$name.summary.md" "$OUT/$name.summary.md" 2>/dev/null
	tail -n 60 "$W/$name.log" | sed "s/^/  $name| /" >>"$LOG"
}

{ echo "gate: $("$GATE" version)"; echo "nsys: $("$NSYS" --version 2>&1)"; } | tee -a "$LOG"
step base 3 "$PY $WORKLOAD"
step double_attn 1 "$PY $WORKLOAD --regress double-attn" "$W/base/summary.json"
ls -la "$W/base" "$W/double_attn" >>"$LOG" 2>&1
