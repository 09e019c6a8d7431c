#!/bin/bash
# Trim an Nsight Systems export of testdata/gpu/hf_generate.py --nvtx (a
# transformers generate() loop whose model forwards are NVTX ranges
# "prefill" and "decode", the ground truth of step inference) into a small
# test fixture:
#
#   bash testdata/nsys/hfn-trim.sh IN.sqlite OUT.sqlite.gz [CALL] [DECODE_STEPS]
#
# The fixture is generate() call CALL's prefill (default 2: the first
# measured call, after the warm-up that also compiles a static-cache decode)
# and its first DECODE_STEPS decode iterations (default 24), each whole: all
# in SQL on a copy of IN,
#   - the GPU ops (kernels, copies, memsets), API calls, synchronisation and
#     CUDA event records whose correlation ids lie after the first host
#     synchronisation that ends after the last decode range before the
#     CALL-th prefill range (the previous call's last iteration), and up to
#     the first that ends after the DECODE_STEPS-th decode range after it
#     (the one reading that iteration's token);
#   - the NVTX ranges inside the kept calls' time span;
#   - of the API calls, not the ones that never launch GPU work and that
#     gate skips unread (noWorkAPI in parse/calls.go: cuKernelGetName and
#     cuKernelGetAttribute beside every launch, cuGetProcAddress,
#     cuLibrary*, cudaStreamIsCapturing);
#   - every other table whole.
# Then VACUUM and gzip -9n. sqlite3 must be on the PATH.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: hfn-trim.sh IN.sqlite OUT.sqlite.gz [CALL] [DECODE_STEPS]}
out=${2:?usage: hfn-trim.sh IN.sqlite OUT.sqlite.gz [CALL] [DECODE_STEPS]}
call=${3:-2}
steps=${4:-24}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$in" "$tmp/x.sqlite"
outside='correlationId NOT BETWEEN (SELECT lo + 1 FROM cut) AND (SELECT hi FROM cut)'
ops=
for t in KERNEL MEMCPY MEMSET SYNCHRONIZATION CUDA_EVENT; do
	if sqlite3 "$tmp/x.sqlite" "SELECT name FROM sqlite_master WHERE name = 'CUPTI_ACTIVITY_KIND_$t'" | grep -q .; then
		ops="$ops DELETE FROM CUPTI_ACTIVITY_KIND_$t WHERE $outside;"
	fi
done
sqlite3 "$tmp/x.sqlite" <<SQL
CREATE TEMP TABLE ranges AS
  SELECT coalesce(text, (SELECT value FROM StringIds WHERE id = textId)) AS name, start, "end"
  FROM NVTX_EVENTS WHERE eventType = 59;
CREATE TEMP TABLE syncs AS
  SELECT r.correlationId AS corr, r."end" AS t
  FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId
  WHERE s.value GLOB 'cudaStreamSynchronize*' OR s.value GLOB 'cudaDeviceSynchronize*';
CREATE TEMP TABLE prefill AS
  SELECT start FROM ranges WHERE name = 'prefill' ORDER BY start LIMIT 1 OFFSET $call - 1;
CREATE TEMP TABLE cut AS
  SELECT (SELECT corr FROM syncs WHERE t > (SELECT max("end") FROM ranges
            WHERE name = 'decode' AND "end" < (SELECT start FROM prefill)) ORDER BY t LIMIT 1) AS lo,
         (SELECT corr FROM syncs WHERE t > (SELECT "end" FROM ranges
            WHERE name = 'decode' AND start > (SELECT start FROM prefill) ORDER BY start LIMIT 1 OFFSET $steps - 1)
          ORDER BY t LIMIT 1) AS hi;
$ops
.read $dir/nowork.sql
DELETE FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE $outside OR nameId IN (SELECT id FROM nowork);
CREATE TEMP TABLE win AS
  SELECT min(start) AS lo, max("end") AS hi FROM CUPTI_ACTIVITY_KIND_RUNTIME;
DELETE FROM NVTX_EVENTS WHERE start < (SELECT lo FROM win) OR start > (SELECT hi FROM win);
VACUUM;
SQL
gzip -9n <"$tmp/x.sqlite" >"$out"
echo "$out: $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL') kernels, $(sqlite3 "$tmp/x.sqlite" "SELECT group_concat(n || ' ' || c, ', ') FROM (SELECT coalesce(text, '?') n, count(*) c FROM NVTX_EVENTS GROUP BY n)") NVTX ranges, $(stat -c %s "$tmp/x.sqlite") bytes, $(stat -c %s "$out") gzipped"
