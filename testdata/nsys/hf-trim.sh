#!/bin/bash
# Trim an Nsight Systems export of testdata/gpu/hf_generate.py (a
# transformers generate() loop without NVTX, recorded by gate profile) into
# a small test fixture:
#
#   bash testdata/nsys/hf-trim.sh IN.sqlite OUT.sqlite.gz [DECODE_STEPS]
#
# The recipe calls generate() four times, a warm-up and three measured. Each
# call begins with two HtoD uploads and a small reduction, each ended by a
# host synchronisation, then a run of kernels holding three DtoD copies (the
# cache set-up) before the prefill. The warm-up's decode steps are 4.5x
# slower under SDPA (cuDNN's first calls), so the fixture is the first
# measured call's prefill and its first DECODE_STEPS (default 24 of 47)
# decode steps. All in SQL on a copy of IN:
#   - the GPU ops, API calls and synchronisation records whose correlation
#     ids lie after the synchronisation ending the warm-up's last decode
#     step (the 4th synchronisation before the 4th DtoD copy) and up to the
#     one ending the DECODE_STEPS-th decode forward after it (the
#     (5 + 2 DECODE_STEPS)-th: the two uploads, the reduction, the set-up,
#     the prefill, then a bookkeeping run and a forward per decode step);
#   - of those API calls, not the ones that never launch GPU work and that
#     gate skips unread (noWorkAPI in parse/calls.go: cuKernelGetName and
#     cuKernelGetAttribute beside every launch, cuGetProcAddress,
#     cuLibrary*, cudaStreamIsCapturing), half the rows;
#   - GPU_METRICS only for the 7 metrics gate reads (gm-keep.sql) and only
#     inside the kept calls' time span; TARGET_INFO_GPU_METRICS whole;
#   - every other table whole.
# Then VACUUM and gzip -9n. sqlite3 must be on the PATH.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: hf-trim.sh IN.sqlite OUT.sqlite.gz}
out=${2:?usage: hf-trim.sh IN.sqlite OUT.sqlite.gz}
steps=${3:-24}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$in" "$tmp/x.sqlite"
memset=
if sqlite3 "$tmp/x.sqlite" "SELECT name FROM sqlite_master WHERE name = 'CUPTI_ACTIVITY_KIND_MEMSET'" | grep -q .; then
	memset=CUPTI_ACTIVITY_KIND_MEMSET
fi
outside='correlationId NOT BETWEEN (SELECT lo + 1 FROM cut) AND (SELECT hi FROM cut)'
sqlite3 "$tmp/x.sqlite" <<SQL
CREATE TEMP TABLE dtod AS
  SELECT correlationId AS corr, row_number() OVER (ORDER BY correlationId) AS n
  FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE copyKind = 8;
CREATE TEMP TABLE syncs AS
  SELECT r.correlationId AS corr
  FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId
  WHERE s.value GLOB 'cudaStreamSynchronize*' OR s.value GLOB 'cudaDeviceSynchronize*';
CREATE TEMP TABLE cut AS
  SELECT (SELECT corr FROM syncs WHERE corr < (SELECT corr FROM dtod WHERE n = 4)
          ORDER BY corr DESC LIMIT 1 OFFSET 3) AS lo,
         NULL AS hi;
UPDATE cut SET hi = (SELECT corr FROM syncs WHERE corr > cut.lo ORDER BY corr LIMIT 1 OFFSET 4 + 2 * $steps);
DELETE FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE $outside;
DELETE FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE $outside;
${memset:+DELETE FROM $memset WHERE $outside;}
DELETE FROM CUPTI_ACTIVITY_KIND_SYNCHRONIZATION WHERE $outside;
.read $dir/nowork.sql
DELETE FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE $outside OR nameId IN (SELECT id FROM nowork);
CREATE TEMP TABLE win AS
  SELECT min(start) AS lo, max("end") AS hi FROM CUPTI_ACTIVITY_KIND_RUNTIME;
.read $dir/gm-keep.sql
VACUUM;
SQL
gzip -9n <"$tmp/x.sqlite" >"$out"
echo "$out: $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL') kernels, $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM GPU_METRICS') GPU_METRICS rows, $(stat -c %s "$tmp/x.sqlite") bytes, $(stat -c %s "$out") gzipped"
