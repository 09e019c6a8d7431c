#!/bin/bash
# Trim an Nsight Systems export recorded with GPU-metrics sampling into a
# small test fixture (issue 16):
#
#   bash testdata/nsys/gm-trim.sh IN.sqlite OUT.sqlite.gz [MARGIN_NS]
#
# What it keeps and drops, all in SQL on a copy of IN:
#   - every table gate's parser reads (kernels, runtime, NVTX, memcpy, GPU
#     description, strings, ...), untouched, so the summary's phases and
#     kernels are the real ones;
#   - GPU_METRICS only for the metrics gate reads (GPC clock, SMs active,
#     tensor active, DRAM read and write bandwidth, PCIe RX and TX), and only
#     inside the NVTX range "benchmark" widened by MARGIN_NS on each side
#     (default 5 ms): the setup's seconds of idle samples are most of the
#     table and no test reads them;
#   - TARGET_INFO_GPU_METRICS whole (22 names on GH100), so that the parser
#     still meets the names it does not use (gm-keep.sql, shared with
#     hf-trim.sh).
# Then VACUUM and gzip -9n. sqlite3 must be on the PATH.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: trim.sh IN.sqlite OUT.sqlite.gz [MARGIN_NS]}
out=${2:?usage: trim.sh IN.sqlite OUT.sqlite.gz [MARGIN_NS]}
margin=${3:-5000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$in" "$tmp/x.sqlite"
sqlite3 "$tmp/x.sqlite" <<SQL
CREATE TEMP TABLE win AS
  SELECT min(n.start) - $margin AS lo, max(n.end) + $margin AS hi
  FROM NVTX_EVENTS n LEFT JOIN StringIds s ON s.id = n.textId
  WHERE coalesce(n.text, s.value) = 'benchmark';
.read $dir/gm-keep.sql
VACUUM;
SQL
gzip -9n <"$tmp/x.sqlite" >"$out"
echo "$out: $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM GPU_METRICS') GPU_METRICS rows, $(stat -c %s "$tmp/x.sqlite") bytes, $(stat -c %s "$out") gzipped"
