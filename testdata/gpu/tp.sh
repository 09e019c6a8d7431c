#!/bin/bash
# Profiles the tensor-parallel workload (tp_workload.py) on a machine with 2 GPUs, once as is
# and once with one extra all-reduce per layer, keeps the exports as fixtures (testdata/multigpu/) and runs the
# gate on the pair. For the device machine 'nvidia-h200-x2', from the repository root, with
# the profiling recipe (../shared/device: nsys-setup.sh, libs/) copied to .gpu/ and a gate
# binary built for it at .gpu/gate:
#
#   bash testdata/gpu/tp.sh            # writes under $OUT (default /tmp/tp-out)
#
# The machine sets NCCL_NVLS_ENABLE=0, TORCH_SYMM_MEM_DISABLE_MULTICAST=1 and
# NVSHMEM_DISABLE_NVLS=1 (NVLink multicast off); this script keeps them, checks them (below)
# and records the environment (env.txt). One profile takes
# about a minute (torch import, NCCL init, weights drawn on the CPU, nsys export).
#
# BASE_B=1 also profiles the base a second time (tp_base_b), for a noise check.
# PER_RANK=1 also profiles the base case one process per rank (nsys inside torchrun), the
# input of parse.MergeRanks: tp_base.rank0.sqlite, tp_base.rank1.sqlite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/tp-out}
mkdir -p "$OUT"

# NVLink multicast must stay off on the shared host (KINDS.md: a program that uses it can put
# the host's GPUs out of service). Keep what the machine set; refuse to run if one of them is
# set otherwise; set the off value only where a variable is missing.
for kv in NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1; do
  k=${kv%%=*}; v=${kv#*=}
  if [ -z "${!k+x}" ]; then
    echo "note: $k was not set; exporting $k=$v" >&2
    export "$k=$v"
  elif [ "${!k}" != "$v" ]; then
    echo "refusing to run: $k=${!k}, want $v (NVLink multicast must stay off)" >&2
    exit 2
  fi
done

NSYS=$(bash .gpu/nsys-setup.sh | tail -1)
"$NSYS" --version | tee "$OUT/nsys-version.txt"
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv | tee "$OUT/gpus.txt"
nvidia-smi topo -m > "$OUT/topo.txt" 2>&1 || true
env | grep -E '^(NCCL|CUDA|TORCH|NVIDIA)_' | sort > "$OUT/env.txt" || true
python3 -c 'import sys, torch; n = torch.cuda.device_count(); print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version(), n, "GPUs"); sys.exit(n < 2)' | tee "$OUT/torch.txt"

run() { python3 -m torch.distributed.run --standalone --nproc-per-node 2 "$@"; }

profile() { # name, workload args...
  local name=$1; shift
  local t0=$SECONDS
  "$NSYS" profile --trace=cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node \
    --export=sqlite -f true -o "$OUT/$name" \
    python3 -m torch.distributed.run --standalone --nproc-per-node 2 \
    "$here/tp_workload.py" --json "$OUT/$name.workload.json" "$@" 2>&1 | tail -20
  echo "$name: $((SECONDS - t0)) s"
}

profile tp_base
profile tp_extra_allreduce --regress extra-allreduce
# BASE_B=1: a second run of the base, to check that the gate passes on noise.
if [ "${BASE_B:-0}" = 1 ]; then profile tp_base_b; fi

if [ "${PER_RANK:-0}" = 1 ]; then
  # nsys replaces %q{RANK} by the rank torchrun gives each process.
  run --no-python "$NSYS" profile --trace=cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node \
    --export=sqlite -f true -o "$OUT/tp_base.rank%q{RANK}" \
    python3 "$here/tp_workload.py" 2>&1 | tail -20
fi

# What NCCL launched, per device and kernel, as a check that does not need the gate.
for f in "$OUT"/tp_base.sqlite "$OUT"/tp_extra_allreduce.sqlite; do
  echo "== $(basename "$f")"
  python3 - "$f" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = """SELECT k.deviceId, s.value, COUNT(*), SUM(k.end - k.start)
       FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName
       WHERE s.value LIKE '%nccl%' GROUP BY 1, 2 ORDER BY 1, 2"""
for dev, name, n, ns in db.execute(q):
    print(f"device {dev}: {name}: {n} kernels, {ns / 1e6:.3f} ms")
EOF
done | tee "$OUT/nccl-kernels.txt"

# The gate on the pair: it must fail (exit 1) and name the collective.
set +e
.gpu/gate compare "$OUT/tp_base.sqlite" "$OUT/tp_extra_allreduce.sqlite" > "$OUT/tp_compare.md" 2> "$OUT/tp_compare.err"
echo "gate compare exit status: $?" | tee "$OUT/tp_compare.exit"
if [ -f "$OUT/tp_base_b.sqlite" ]; then
  .gpu/gate compare "$OUT/tp_base.sqlite" "$OUT/tp_base_b.sqlite" > "$OUT/tp_noise.md" 2>&1
  echo "gate compare base with base_b exit status: $?" | tee -a "$OUT/tp_compare.exit"
fi
set -e

# Fixtures: the SQLite exports, gzipped (Go's standard library reads gzip, not xz; at most
# 16 MiB each, xz -9 instead when gzip is over); only these come back.
for f in "$OUT"/tp_*.sqlite; do
  gzip -9 -f -k "$f"
  size=$(stat -c %s "$f.gz")
  echo "$(basename "$f").gz: $size bytes"
  if [ "$size" -gt $((16 << 20)) ]; then
    echo "WARNING: $f.gz is over 16 MiB; trying xz" >&2
    rm -f "$f.gz"; xz -9 -T0 -f -k "$f" && echo "$(basename "$f").xz: $(stat -c %s "$f.xz") bytes"
  fi
done
rm -f "$OUT"/*.nsys-rep "$OUT"/tp_*.sqlite

head -60 "$OUT/tp_compare.md"
ls -la "$OUT"
