#!/bin/bash
# gate profile --server on the GPU machine (issue 7): the PyTorch stand-in
# server (testdata/gpu/standin_server.py, real GPU work per request) profiled
# under a fixed load, once with CUDA-graph decode (base) and once eager
# (head), then gate compare of the two. About 3 minutes on an H200.
# From the repository root, with .gpu/ prepared as for e2e.sh:
#
#   OUT=/some/empty/dir bash testdata/gpu/server.sh
#
# Leaves server.txt (exit codes, tails, server log lines),
# server-{base,head}.summary.json and server-compare.md in $OUT.
set -u
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/gate-server.XXXXXX)
NSYS=${NSYS:-$(bash .gpu/nsys-setup.sh | tail -1)}
for run in base:decode head:none; do
	name=${run%%:*} graphs=${run##*:}
	t0=$(date +%s)
	timeout -k 60 300 .gpu/gate profile --server --nsys "$NSYS" --out "$WORK/$name" \
		--server-url http://127.0.0.1:8765 --ready-timeout 4m \
		--requests 24 --concurrency 4 --prompt-tokens 256 --output-tokens 48 --seed 1 \
		-- python3 testdata/gpu/standin_server.py --port 8765 --workload .gpu/llm_workload.py \
		--graphs "$graphs" --log-interval 0.5 >"$WORK/$name.out" 2>&1
	echo "== server-$name: exit $? in $(($(date +%s) - t0))s" >>"$OUT/server.txt"
	tail -n 15 "$WORK/$name.out" >>"$OUT/server.txt"
	grep -E "Engine 000|standin_server|rror" "$WORK/$name/server.log" | tail -n 8 >>"$OUT/server.txt"
	cp "$WORK/$name/summary.json" "$OUT/server-$name.summary.json"
done
.gpu/gate compare "$OUT/server-base.summary.json" "$OUT/server-head.summary.json" -o "$OUT/server-compare.md"
echo "== compare: exit $?" >>"$OUT/server.txt"
echo "== processes left: $(pgrep -fc standin_server.py || true)" >>"$OUT/server.txt"
