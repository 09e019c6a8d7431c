#!/bin/bash
# Profiles the tensor-parallel workload (tp_workload.py) on a machine with 2 GPUs, once as is
# and once with one extra all-reduce per layer, keeps the exports as fixtures
# (testdata/multigpu/) and runs the gate on the pair. For the device machine
# 'nvidia-h200-x2', from the repository root, with the profiling recipe (../shared/device:
# nsys-setup.sh, libs/) copied to .gpu/ and a gate binary built for it at .gpu/gate:
#
#   bash testdata/gpu/tp.sh            # results under $OUT (default /tmp/tp-out)
#
# What comes back is at most 8 files (the device tool's limit): the gzipped exports, the gate
# reports and tp.log, which holds everything else (versions, GPUs, environment, the
# workload's own timings, NCCL kernels per device). The SQLite files are made in $WORK.
#
# The machine sets NCCL_NVLS_ENABLE=0, TORCH_SYMM_MEM_DISABLE_MULTICAST=1 and
# NVSHMEM_DISABLE_NVLS=1 (NVLink multicast off); this script keeps them and checks them.
# One profile takes about a minute (torch import, NCCL init, weights drawn on the CPU, export).
#
# BASE_B=1 also profiles the base a second time (tp_base_b), for a noise check.
# PER_RANK=1 also profiles the base one process per rank (nsys inside torchrun), the input of
# parse.MergeRanks: tp_base.rank0.sqlite, tp_base.rank1.sqlite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/tp-out}
WORK=${WORK:-/tmp/tp-work}
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/tp.log") 2>&1

# NVLink multicast must stay off on the shared host (KINDS.md: a program that uses it can put
# the host's GPUs out of service). Keep what the machine set; refuse to run if one of them is
# set otherwise; set the off value only where a variable is missing.
for kv in NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1; do
  k=${kv%%=*}; v=${kv#*=}
  if [ -z "${!k+x}" ]; then
    echo "note: $k was not set; exporting $k=$v"
    export "$k=$v"
  elif [ "${!k}" != "$v" ]; then
    echo "refusing to run: $k=${!k}, want $v (NVLink multicast must stay off)"
    exit 2
  fi
done

echo "== environment"
env | grep -E '^(NCCL|CUDA|TORCH|NVSHMEM|NVIDIA)_' | sort || true
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv
nvidia-smi topo -m || true
python3 -c 'import sys, torch; n = torch.cuda.device_count(); print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", torch.cuda.nccl.version(), n, "GPUs"); sys.exit(n < 2)'
NSYS=$(bash .gpu/nsys-setup.sh | tail -1)
"$NSYS" --version

export PYTHONUNBUFFERED=1
profile() { # name, workload args...
  local name=$1; shift
  local t0=$SECONDS
  echo "== profile $name $*"
  "$NSYS" profile --trace=cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node \
    --export=sqlite -f true -o "$WORK/$name" \
    python3 -m torch.distributed.run --standalone --nproc-per-node 2 \
    "$here/tp_workload.py" --json "$WORK/$name.workload.json" "$@"
  cat "$WORK/$name.workload.json"; echo
  echo "$name: $((SECONDS - t0)) s"
}

profile tp_base
profile tp_extra_allreduce --regress extra-allreduce
if [ "${BASE_B:-0}" = 1 ]; then profile tp_base_b; fi
if [ "${PER_RANK:-0}" = 1 ]; then
  echo "== profile tp_base one process per rank"
  # nsys replaces %q{RANK} by the rank torchrun gives each process.
  python3 -m torch.distributed.run --standalone --nproc-per-node 2 --no-python \
    "$NSYS" profile --trace=cuda,nvtx -s none --cpuctxsw=none --cuda-graph-trace=node \
    --export=sqlite -f true -o "$WORK/tp_base.rank%q{RANK}" \
    python3 "$here/tp_workload.py"
fi

# What NCCL launched, per device and kernel: a check that does not need the gate.
for f in "$WORK"/tp_*.sqlite; do
  echo "== NCCL kernels in $(basename "$f")"
  python3 - "$f" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = """SELECT k.deviceId, s.value, COUNT(*), SUM(k.end - k.start)
       FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName
       WHERE s.value LIKE '%nccl%' GROUP BY 1, 2 ORDER BY 1, 2"""
for dev, name, n, ns in db.execute(q):
    print(f"device {dev}: {name}: {n} kernels, {ns / 1e6:.3f} ms")
EOF
done

# The gate on the pair: it must fail (exit status 1) and name the collective.
set +e
echo "== gate compare tp_base tp_extra_allreduce"
.gpu/gate compare "$WORK/tp_base.sqlite" "$WORK/tp_extra_allreduce.sqlite" > "$OUT/tp_compare.md"
echo "gate compare exit status: $? (want 1)"
if [ -f "$WORK/tp_base_b.sqlite" ]; then
  echo "== gate compare tp_base tp_base_b"
  .gpu/gate compare "$WORK/tp_base.sqlite" "$WORK/tp_base_b.sqlite" > "$OUT/tp_noise.md"
  echo "gate compare exit status: $? (want 0)"
fi
set -e

# Fixtures: the SQLite exports gzipped (Go's standard library reads gzip, not xz), at most
# 16 MiB each (xz -9 instead where gzip is over).
echo "== fixtures"
for f in "$WORK"/tp_*.sqlite; do
  gzip -9 -c "$f" > "$OUT/$(basename "$f").gz"
  size=$(stat -c %s "$OUT/$(basename "$f").gz")
  echo "$(basename "$f"): $(stat -c %s "$f") bytes, gzipped $size"
  if [ "$size" -gt $((16 << 20)) ]; then
    echo "WARNING: over 16 MiB gzipped; xz instead"
    rm -f "$OUT/$(basename "$f").gz"
    xz -9 -T0 -c "$f" > "$OUT/$(basename "$f").xz"
  fi
done
ls -la "$OUT"
head -40 "$OUT/tp_compare.md"
