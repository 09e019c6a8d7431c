#!/bin/sh
# synth-big.sh OUT.sqlite [COPIES] [interleaved]: make a large export without
# a GPU by replicating testdata/nsys/regress_no_graphs (27,918 kernels, eager
# decode) COPIES times along the timeline (default 15: 418,770 kernels,
# 936,060 runtime rows, ~70 MB, the size of the issue's 420k-kernel capture;
# 180 copies make 5.0M kernels).
#
# Each copy is shifted past the end of the previous one (setup included) and
# its correlation ids past the previous copy's, so every copy projects like
# the original, and rows are appended copy after copy: the tables stay in
# start and correlation order, as a real capture's are. With "interleaved"
# the copies are written row by row instead (row 1 of every copy, then row
# 2, ...), which no real capture does: the parser's fallback path for tables
# out of order.
#
# Only for benchmarks: a real capture (../shared/device, --steps 1500
# --requests 1 --graphs none) is the reference.
set -eu
out=${1:?usage: synth-big.sh OUT.sqlite [COPIES] [interleaved]}
copies=${2:-15}
order="k.i, t.rowid"
if [ "${3:-}" = interleaved ]; then
	order="t.rowid, k.i"
fi
here=$(dirname "$0")
gunzip -c "$here/../nsys/regress_no_graphs.sqlite.gz" >"$out"
# copy TABLE COLUMNS: append copies 1..COPIES-1 of TABLE's rows, start and
# end shifted (COLUMNS are the other columns, in order, correlationId shifted
# by the caller).
copy() {
	echo "INSERT INTO $1 SELECT t.start + k.i * (SELECT t FROM span), t.end + k.i * (SELECT t FROM span), $2
  FROM k, $1 t ORDER BY $order;"
}
corr="correlationId + k.i * (SELECT c FROM corr)"
kernel=$(copy CUPTI_ACTIVITY_KIND_KERNEL "deviceId, contextId, greenContextId, streamId, $corr, globalPid,
  demangledName, shortName, mangledName, launchType, cacheConfig, registersPerThread, gridX, gridY, gridZ,
  blockX, blockY, blockZ, staticSharedMemory, dynamicSharedMemory, localMemoryPerThread, localMemoryTotal,
  gridId, sharedMemoryExecuted, graphNodeId, sharedMemoryLimitConfig")
runtime=$(copy CUPTI_ACTIVITY_KIND_RUNTIME "eventClass, globalTid, $corr, nameId, returnValue, callchainId")
memcpy=$(copy CUPTI_ACTIVITY_KIND_MEMCPY "deviceId, contextId, greenContextId, streamId, $corr, globalPid, bytes,
  copyKind, deprecatedSrcId, srcKind, dstKind, srcDeviceId, srcContextId, dstDeviceId, dstContextId,
  migrationCause, graphNodeId, virtualAddress, copyCount")
memset=$(copy CUPTI_ACTIVITY_KIND_MEMSET "deviceId, contextId, greenContextId, streamId, $corr, globalPid, value,
  bytes, graphNodeId, memKind")
sqlite3 "$out" <<SQL
CREATE TEMP TABLE k(i INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $copies - 1) INSERT INTO k SELECT i FROM c;
CREATE TEMP TABLE span AS SELECT max(e) - min(s) + 1000000 AS t FROM (
  SELECT min(start) AS s, max(end) AS e FROM NVTX_EVENTS UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_RUNTIME UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_KERNEL UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_MEMCPY);
CREATE TEMP TABLE corr AS SELECT max(c) + 1 AS c FROM (
  SELECT max(correlationId) AS c FROM CUPTI_ACTIVITY_KIND_RUNTIME UNION ALL
  SELECT max(correlationId) FROM CUPTI_ACTIVITY_KIND_KERNEL UNION ALL
  SELECT max(correlationId) FROM CUPTI_ACTIVITY_KIND_MEMCPY UNION ALL
  SELECT max(correlationId) FROM CUPTI_ACTIVITY_KIND_MEMSET);
$kernel
$runtime
$memcpy
$memset
INSERT INTO NVTX_EVENTS (start, end, eventType, rangeId, category, color, text, globalTid, endGlobalTid, textId, domainId)
  SELECT t.start + k.i * (SELECT t FROM span), t.end + k.i * (SELECT t FROM span), eventType, rangeId, category, color,
  text, globalTid, endGlobalTid, textId, domainId FROM k, NVTX_EVENTS t
  WHERE t.end IS NOT NULL ORDER BY $order;
SQL
sqlite3 "$out" "SELECT count(*) || ' kernels' FROM CUPTI_ACTIVITY_KIND_KERNEL"
