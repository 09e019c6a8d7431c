#!/bin/bash
# Trim an Nsight Systems export traced with -t cuda only (no NVTX) into a
# small test fixture, keeping every value gate reads (its summary is the
# untrimmed export's):
#
#   bash testdata/nsys/nonvtx-trim.sh IN.sqlite OUT.sqlite.gz
#
# All in SQL on a copy of IN:
#   - kernel rows keep the columns gate reads (start, end, deviceId,
#     correlationId, globalPid, shortName, demangledName, graphNodeId); the
#     others (launch configuration, registers, shared memory, stream,
#     context, grid id, mangled name) are set to 0 or NULL, which compresses
#     away;
#   - runtime rows: not the kernel launches (cudaLaunchKernel*,
#     cuLaunchKernel*: without NVTX ranges there is no range to attribute
#     a launch to, and gate reads only the synchronisations and graph
#     launches) nor the calls that never launch GPU work, which gate skips
#     unread (noWorkAPI in parse/calls.go: cuKernelGet*/cuKernelSet* beside
#     every launch, cuGetProcAddress, cuLibrary*, cudaStreamIsCapturing);
#     returnValue 0, callchainId NULL;
#   - every other table whole.
# Then VACUUM and gzip -9n. sqlite3 must be on the PATH.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: nonvtx-trim.sh IN.sqlite OUT.sqlite.gz}
out=${2:?usage: nonvtx-trim.sh IN.sqlite OUT.sqlite.gz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$in" "$tmp/x.sqlite"
if sqlite3 "$tmp/x.sqlite" "SELECT name FROM sqlite_master WHERE name = 'NVTX_EVENTS'" | grep -q .; then
	echo "$in: has an NVTX_EVENTS table; this trim is for exports traced without NVTX" >&2
	exit 2
fi
sqlite3 "$tmp/x.sqlite" <<SQL
UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET contextId = 0, greenContextId = NULL, streamId = 0, mangledName = NULL,
  launchType = NULL, cacheConfig = NULL, registersPerThread = 0, gridX = 0, gridY = 0, gridZ = 0,
  blockX = 0, blockY = 0, blockZ = 0, staticSharedMemory = 0, dynamicSharedMemory = 0,
  localMemoryPerThread = 0, localMemoryTotal = 0, gridId = 0, sharedMemoryExecuted = NULL,
  sharedMemoryLimitConfig = NULL;
.read $dir/nowork.sql
DELETE FROM CUPTI_ACTIVITY_KIND_RUNTIME
  WHERE nameId IN (SELECT id FROM nowork)
     OR nameId IN (SELECT id FROM StringIds WHERE value GLOB 'cudaLaunchKernel*' OR value GLOB 'cuLaunchKernel*');
UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET returnValue = 0, callchainId = NULL;
VACUUM;
SQL
gzip -9n <"$tmp/x.sqlite" >"$out"
echo "$out: $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL') kernels, $(sqlite3 "$tmp/x.sqlite" 'SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME') runtime rows, $(stat -c %s "$tmp/x.sqlite") bytes, $(stat -c %s "$out") gzipped"
