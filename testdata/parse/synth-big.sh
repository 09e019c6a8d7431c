#!/bin/sh
# synth-big.sh OUT.sqlite [COPIES]: make a large export without a GPU by
# replicating testdata/nsys/regress_no_graphs (27,918 kernels, eager decode)
# COPIES times along the timeline (default 15: 418,770 kernels, 936,060
# runtime rows, ~70 MB, the size of the issue's 420k-kernel benchmark).
# Each copy is shifted past the end of the previous one (setup included) and
# gets its own correlation ids, so every copy projects like the original.
# Only for benchmarks: a real capture (../shared/device, --steps 1500
# --requests 1 --graphs none) is the reference.
set -eu
out=${1:?usage: synth-big.sh OUT.sqlite [COPIES]}
copies=${2:-15}
here=$(dirname "$0")
gunzip -c "$here/../nsys/regress_no_graphs.sqlite.gz" >"$out"
sqlite3 "$out" <<SQL
CREATE TEMP TABLE k(i INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $copies - 1) INSERT INTO k SELECT i FROM c;
CREATE TEMP TABLE span AS SELECT max(e) - min(s) + 1000000 AS t FROM (
  SELECT min(start) AS s, max(end) AS e FROM NVTX_EVENTS UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_RUNTIME UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_KERNEL UNION ALL
  SELECT min(start), max(end) FROM CUPTI_ACTIVITY_KIND_MEMCPY);
INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL SELECT start + k.i * (SELECT t FROM span), end + k.i * (SELECT t FROM span),
  deviceId, contextId, greenContextId, streamId, correlationId + k.i * 10000000, globalPid, demangledName, shortName,
  mangledName, launchType, cacheConfig, registersPerThread, gridX, gridY, gridZ, blockX, blockY, blockZ,
  staticSharedMemory, dynamicSharedMemory, localMemoryPerThread, localMemoryTotal, gridId, sharedMemoryExecuted,
  graphNodeId, sharedMemoryLimitConfig
  FROM CUPTI_ACTIVITY_KIND_KERNEL, k WHERE CUPTI_ACTIVITY_KIND_KERNEL.correlationId < 10000000;
INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME SELECT start + k.i * (SELECT t FROM span), end + k.i * (SELECT t FROM span),
  eventClass, globalTid, correlationId + k.i * 10000000, nameId, returnValue, callchainId
  FROM CUPTI_ACTIVITY_KIND_RUNTIME, k WHERE CUPTI_ACTIVITY_KIND_RUNTIME.correlationId < 10000000;
INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY SELECT start + k.i * (SELECT t FROM span), end + k.i * (SELECT t FROM span),
  deviceId, contextId, greenContextId, streamId, correlationId + k.i * 10000000, globalPid, bytes, copyKind,
  deprecatedSrcId, srcKind, dstKind, srcDeviceId, srcContextId, dstDeviceId, dstContextId, migrationCause,
  graphNodeId, virtualAddress, copyCount
  FROM CUPTI_ACTIVITY_KIND_MEMCPY, k WHERE CUPTI_ACTIVITY_KIND_MEMCPY.correlationId < 10000000;
INSERT INTO CUPTI_ACTIVITY_KIND_MEMSET SELECT start + k.i * (SELECT t FROM span), end + k.i * (SELECT t FROM span),
  deviceId, contextId, greenContextId, streamId, correlationId + k.i * 10000000, globalPid, value, bytes,
  graphNodeId, memKind
  FROM CUPTI_ACTIVITY_KIND_MEMSET, k WHERE CUPTI_ACTIVITY_KIND_MEMSET.correlationId < 10000000;
INSERT INTO NVTX_EVENTS (start, end, eventType, rangeId, category, color, text, globalTid, endGlobalTid, textId, domainId)
  SELECT start + k.i * (SELECT t FROM span), end + k.i * (SELECT t FROM span), eventType, rangeId, category, color,
  text, globalTid, endGlobalTid, textId, domainId FROM NVTX_EVENTS, k
  WHERE NVTX_EVENTS.start < (SELECT min(start) FROM NVTX_EVENTS) + (SELECT t FROM span) AND NVTX_EVENTS.end IS NOT NULL;
SQL
sqlite3 "$out" "SELECT count(*) || ' kernels' FROM CUPTI_ACTIVITY_KIND_KERNEL"
