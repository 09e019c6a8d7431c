package parse

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Op kinds of GPU activity rows.
const (
	opKernel uint8 = iota
	opMemcpy
	opMemset
	opGraph // one CUDA-graph replay in graph-level tracing
)

// gpuOp is one GPU activity row, reduced to what the aggregates need.
type gpuOp struct {
	start, end int64
	key        uint64 // (process, correlationId), see opKey
	name       int32  // kernels: short-name id (or group id); memcpy: copyKind
	demangled  int32  // kernels: demangled-name id
	bytes      int64
	device     int32
	kind       uint8
	inGraph    bool
}

// opKey joins a GPU op to the runtime call that launched it: the process id
// (bits 24..47 of globalPid/globalTid) and the correlation id, which is
// unique only within a process (CUPTI ids are 32-bit).
func opKey(global, corr int64) uint64 {
	return uint64(processOf(global))<<40 | uint64(corr)&(1<<32-1)
}

// groupBy selects what per-kernel statistics are keyed by.
type groupBy int

const (
	groupShort groupBy = iota // the short name, as Summary.Kernels
	// groupDemangledGridBlock is how nsys stats' gpukernsum groups (the
	// demangled name plus launch grid and block); used to check against it.
	groupDemangledGridBlock
)

// scanKernels reads the kernel table once. For groupDemangledGridBlock the
// group names are interned into groups.
func scanKernels(ctx context.Context, conn *sql.Conn, s *schema, by groupBy, groups *[]string, ops []gpuOp, bad map[string]int) ([]gpuOp, error) {
	short := s.colOr(ctx, tKernel, "shortName", s.colOr(ctx, tKernel, "demangledName", "0"))
	demangled := s.colOr(ctx, tKernel, "demangledName", short)
	graphNode := s.colOr(ctx, tKernel, "graphNodeId", "NULL")
	device := s.colOr(ctx, tKernel, "deviceId", "0")
	extra := ""
	if by == groupDemangledGridBlock {
		extra = ", gridX, gridY, gridZ, blockX, blockY, blockZ"
	}
	// Pack what Go needs into few columns (each column read costs a driver
	// round trip): the join key as opKey computes it, both name ids, and
	// device with the graph flag.
	q := fmt.Sprintf(`SELECT `+timeCols+`,
		((coalesce(globalPid, 0) >> 24) & 16777215) << 40 | (coalesce(correlationId, 0) & 4294967295),
		(coalesce(%s, 0) << 32) | (coalesce(%s, 0) & 4294967295),
		coalesce(%s, 0) * 2 + (%s IS NOT NULL)%s FROM %s`,
		short, demangled, device, graphNode, extra, tKernel)
	if hint := rowsHint(ctx, conn, s, tKernel); hint > cap(ops)-len(ops) {
		ops = slices.Grow(ops, hint)
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return ops, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	defer rows.Close()
	intern := map[string]int32{}
	var g [6]int64
	// One destination list for all rows: Scan copies into the same locals.
	var start, end, key, names, devGraph int64
	dest := []any{&start, &end, &key, &names, &devGraph}
	if by == groupDemangledGridBlock {
		dest = append(dest, &g[0], &g[1], &g[2], &g[3], &g[4], &g[5])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return ops, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
		}
		if impossible(start, end) {
			bad[tKernel]++
			continue
		}
		dem := int64(uint32(names))
		op := gpuOp{
			start: start, end: end, key: uint64(key), kind: opKernel, device: int32(devGraph >> 1),
			name: int32(names >> 32), demangled: int32(dem), inGraph: devGraph&1 != 0,
		}
		if by == groupDemangledGridBlock {
			k := fmt.Sprintf("%d|%d %d %d|%d %d %d", dem, g[0], g[1], g[2], g[3], g[4], g[5])
			id, ok := intern[k]
			if !ok {
				id = int32(len(*groups))
				intern[k] = id
				*groups = append(*groups, k)
			}
			op.name = id
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		return ops, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	return ops, nil
}

// timeCols reads an activity row's start and end, a missing value as one
// that impossible rejects.
const timeCols = "coalesce(start, 9223372036854775807), coalesce(end, 9223372036854775807)"

// maxTime bounds plausible timestamps: nsys counts nanoseconds from the
// session's start, and 2^62 ns is 146 years. Beyond it a value is a
// sentinel or garbage, and sums of such values would overflow.
const maxTime = 1 << 62

// impossible says whether a row's times cannot be a real interval: missing
// (read as math.MaxInt64), end before start, or beyond ±maxTime. Such rows
// are dropped and counted, never averaged in.
func impossible(start, end int64) bool {
	return end < start || start < -maxTime || end > maxTime
}

// rowsHint guesses a table's row count from its largest rowid (a b-tree
// descent, not a scan), bounded by what the file could hold, to size slices
// once instead of growing them.
func rowsHint(ctx context.Context, conn *sql.Conn, s *schema, table string) int {
	var n *int64
	if err := conn.QueryRowContext(ctx, "SELECT max(rowid) FROM "+table).Scan(&n); err != nil || n == nil || *n <= 0 {
		return 0
	}
	return int(min(*n, s.size/16, 1<<28))
}

// scanSmall reads the memcpy, memset and graph-trace tables (small next to
// the kernel table) into ops.
func scanSmall(ctx context.Context, conn *sql.Conn, s *schema, ops []gpuOp, bad map[string]int) ([]gpuOp, error) {
	type table struct {
		name  string
		kind  uint8
		cols  string
		bytes bool
	}
	var tables []table
	if s.has(tMemcpy) {
		tables = append(tables, table{tMemcpy, opMemcpy,
			fmt.Sprintf(timeCols+", %s, correlationId, globalPid, %s, %s", s.colOr(ctx, tMemcpy, "deviceId", "0"),
				s.colOr(ctx, tMemcpy, "copyKind", "0"), s.colOr(ctx, tMemcpy, "bytes", "0")), true})
	}
	if s.has(tMemset) {
		tables = append(tables, table{tMemset, opMemset,
			fmt.Sprintf(timeCols+", %s, correlationId, globalPid, 0, %s", s.colOr(ctx, tMemset, "deviceId", "0"),
				s.colOr(ctx, tMemset, "bytes", "0")), true})
	}
	if s.has(tGraphTrace) {
		tables = append(tables, table{tGraphTrace, opGraph,
			fmt.Sprintf(timeCols+", %s, correlationId, globalPid, 0, 0", s.colOr(ctx, tGraphTrace, "deviceId", "0")), false})
	}
	for _, t := range tables {
		rows, err := conn.QueryContext(ctx, "SELECT "+t.cols+" FROM "+t.name)
		if err != nil {
			return ops, fmt.Errorf("%s: %w", t.name, sqliteErr(err))
		}
		for rows.Next() {
			var op gpuOp
			var dev, corr, pid, name int64
			var bytes *int64
			if err := rows.Scan(&op.start, &op.end, &dev, &corr, &pid, &name, &bytes); err != nil {
				rows.Close()
				return ops, fmt.Errorf("%s: %w", t.name, sqliteErr(err))
			}
			if impossible(op.start, op.end) {
				bad[t.name]++
				continue
			}
			op.kind = t.kind
			op.key = opKey(pid, corr)
			op.device = int32(dev)
			op.name = int32(name)
			if bytes != nil {
				op.bytes = *bytes
			}
			ops = append(ops, op)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return ops, fmt.Errorf("%s: %w", t.name, sqliteErr(err))
		}
	}
	return ops, nil
}

// syncAPI matches CUDA runtime and driver calls that block the host until
// the GPU catches up (the _vNNNN suffix nsys adds is ignored).
var syncAPI = regexp.MustCompile(`^(cudaDeviceSynchronize|cudaStreamSynchronize|cudaEventSynchronize|cudaThreadSynchronize|cudaMemcpy|cudaMemcpy2D|cudaMemcpy3D|cudaMemcpyToSymbol|cudaMemcpyFromSymbol|cudaMemcpyPeer|cuCtxSynchronize|cuStreamSynchronize|cuEventSynchronize|cuMemcpy|cuMemcpyDtoH|cuMemcpyHtoD|cuMemcpyDtoD|cuMemcpy2D|cuMemcpy3D)(_v\d+|_v\d+_ptds|_ptds)?$`)

// apiKind marks the runtime calls gate counts.
type apiKind uint8

const (
	apiOther apiKind = iota
	apiSync
	apiGraphLaunch
	apiNoWork // never launches GPU work: not kept for the join
)

// noWorkAPI matches frequent CUDA runtime and driver calls that never put
// work on the GPU (queries, attribute getters, allocation, stream and event
// bookkeeping). Leaving them out of the correlation map roughly halves it on
// PyTorch captures (cuKernelGetName accompanies every launch) without
// changing any projection: no kernel, memcpy or memset can carry their
// correlation ids.
var noWorkAPI = regexp.MustCompile(`^(cuKernelGet|cuKernelSet|cuGetProcAddress|cuLibrary|cuModuleGet|cuModuleLoad|cudaStream(IsCapturing|GetCaptureInfo|Create|Destroy|Query|GetPriority|GetFlags)|cudaEvent(Create|Destroy|Query)|cudaMalloc|cudaFree|cudaHostAlloc|cudaHostRegister|cudaHostUnregister|cudaMallocHost|cudaFreeHost|cudaOccupancy|cuOccupancy|cudaFuncGet|cudaFuncSet|cudaGetDevice|cudaSetDevice|cudaDeviceGet|cudaDeviceCanAccessPeer|cudaGetDriverEntryPoint|cudaThreadExchangeStreamCaptureMode|cudaPointerGetAttributes|cuPointerGetAttribute|cudaGetLastError|cudaPeekAtLastError|cudaGetFuncBySymbol|cudaGetSymbolAddress|cuInit|cuCtxGet|cuCtxSet|cuDeviceGet|cuDevicePrimaryCtx|cudaDriverGetVersion|cudaRuntimeGetVersion)`)

// graphLaunchAPI matches the calls that replay a CUDA graph.
var graphLaunchAPI = regexp.MustCompile(`^(cudaGraphLaunch|cuGraphLaunch)(_v\d+|_ptsz)?$`)

// launches maps (process, correlationId) of every runtime call that ran
// inside some range to its innermost range. A correlation id that several
// calls share (seen on real captures) keeps every range in multi.
type launches struct {
	first   map[uint64]uint32 // key -> index into entries
	entries []launch
	multi   map[uint64][]int32
	// graphLaunches counts cudaGraphLaunch calls seen, to tell "graphs not
	// traced" from "no graphs".
	graphLaunches int
}

// launch is one (process, correlationId) seen inside a range: its innermost
// range, and flags the projection sets once the key's ops are counted.
type launch struct {
	rng     int32
	counted uint8
}

func (l *launches) add(key uint64, r int32) {
	i, ok := l.first[key]
	if !ok {
		l.first[key] = uint32(len(l.entries))
		l.entries = append(l.entries, launch{rng: r})
		return
	}
	old := l.entries[i].rng
	if old == r {
		return
	}
	if l.multi == nil {
		l.multi = map[uint64][]int32{}
	}
	if _, ok := l.multi[key]; !ok {
		l.multi[key] = []int32{old}
	}
	for _, x := range l.multi[key] {
		if x == r {
			return
		}
	}
	l.multi[key] = append(l.multi[key], r)
}

// scanRuntime reads the runtime API table once, keeping only calls inside a
// range, and counts host synchronisations per step (into syncs).
func scanRuntime(ctx context.Context, conn *sql.Conn, s *schema, ranges []nvtxRange, byTid map[int64]*threadRanges,
	api map[int64]apiKind, syncs []int) (*launches, error) {
	l := &launches{first: map[uint64]uint32{}}
	if len(ranges) == 0 || !s.has(tRuntime) {
		return l, nil
	}
	// About half the calls of a capture launch GPU work; sizing the map
	// once saves rehashing it as it grows.
	if hint := rowsHint(ctx, conn, s, tRuntime) / 2; hint > 0 {
		l.first = make(map[uint64]uint32, hint)
		l.entries = make([]launch, 0, hint)
	}
	lo, hi := ranges[0].start, ranges[0].end
	for _, r := range ranges {
		lo = min(lo, r.start)
		hi = max(hi, r.end)
	}
	name := s.colOr(ctx, tRuntime, "nameId", "0")
	// Calls that never launch GPU work stay in SQLite: about half the rows
	// of a PyTorch capture.
	var skip []string
	for id, k := range api {
		if k == apiNoWork {
			skip = append(skip, fmt.Sprint(id))
		}
	}
	filter := ""
	if len(skip) > 0 && len(skip) <= 1000 {
		slices.Sort(skip)
		filter = " AND " + name + " NOT IN (" + strings.Join(skip, ",") + ")"
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT coalesce(start, 0), coalesce(end, 0), coalesce(globalTid, 0),
		(coalesce(%s, 0) << 32) | (coalesce(correlationId, 0) & 4294967295) FROM %s WHERE start >= ? AND start <= ?%s`,
		name, tRuntime, filter), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tRuntime, sqliteErr(err))
	}
	defer rows.Close()
	var lastTid int64 = -1
	var tr *threadRanges
	var start, end, tid, packed int64
	dest := []any{&start, &end, &tid, &packed}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", tRuntime, sqliteErr(err))
		}
		nameID, corr := packed>>32, int64(uint32(packed))
		if tid != lastTid {
			tr, lastTid = byTid[tid], tid
		}
		kind := api[nameID]
		if kind == apiGraphLaunch {
			l.graphLaunches++
		}
		if tr == nil || (kind == apiNoWork) {
			continue
		}
		r := innermost(ranges, tr, start, end)
		if r < 0 {
			continue
		}
		if kind == apiSync {
			if st := ranges[r].step; st >= 0 {
				syncs[st]++
			}
		}
		l.add(opKey(tid, corr), r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tRuntime, sqliteErr(err))
	}
	return l, nil
}
