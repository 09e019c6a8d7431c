package parse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/nsys-gate/gate/parse/internal/sqlread"
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
	// seq is the row's place in table order: kernels first, then memcpys,
	// memsets and graph replays (smallSeq on), which says the device of a
	// step.
	seq       int64
	name      int32 // kernels: short-name id (or group id); memcpy: copyKind
	demangled int32 // kernels: demangled-name id
	bytes     int64
	device    int32
	kind      uint8
	inGraph   bool
}

// smallSeq starts the seq of rows that are not kernels.
const smallSeq = 1 << 62

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
	// demangled name plus launch grid and block); a mode for the tests that
	// check gate's statistics against it.
	groupDemangledGridBlock
)

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

// times reads a row's start and end (columns 0 and 1), a NULL as
// math.MaxInt64, which impossible rejects.
func times(rows *sqlread.Rows) (start, end int64) {
	start, end = rows.Int64(0), rows.Int64(1)
	if start == 0 && rows.IsNull(0) {
		start = math.MaxInt64
	}
	if end == 0 && rows.IsNull(1) {
		end = math.MaxInt64
	}
	return start, end
}

// readSmallOps reads the memcpy, memset and graph-trace tables (small next
// to the kernel table), sorted by start.
func (p *profile) readSmallOps(ctx context.Context, s *schema) ([]gpuOp, error) {
	type table struct {
		name  string
		kind  uint8
		name2 string // the column read as gpuOp.name
		bytes string
	}
	var tables []table
	if s.has(tMemcpy) {
		tables = append(tables, table{tMemcpy, opMemcpy, s.colOr(ctx, tMemcpy, "copyKind", "0"), s.colOr(ctx, tMemcpy, "bytes", "0")})
	}
	if s.has(tMemset) {
		tables = append(tables, table{tMemset, opMemset, "0", s.colOr(ctx, tMemset, "bytes", "0")})
	}
	if s.has(tGraphTrace) {
		tables = append(tables, table{tGraphTrace, opGraph, "0", "0"})
	}
	var ops []gpuOp
	for _, t := range tables {
		q := fmt.Sprintf("SELECT start, end, %s, %s, %s, %s, %s FROM %s", s.colOr(ctx, t.name, "deviceId", "0"),
			s.colOr(ctx, t.name, "correlationId", "0"), s.colOr(ctx, t.name, "globalPid", "0"), t.name2, t.bytes, t.name)
		rows, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, sqliteErr(err))
		}
		for rows.Next() {
			start, end := times(rows)
			if impossible(start, end) {
				p.bad[t.name]++
				continue
			}
			if rows.IsNull(3) {
				p.nullCorr[t.name]++
			}
			ops = append(ops, gpuOp{
				start: start, end: end, kind: t.kind, device: int32(rows.Int64(2)),
				key: opKey(rows.Int64(4), rows.Int64(3)), name: int32(rows.Int64(5)), bytes: rows.Int64(6),
				seq: smallSeq + int64(len(ops)),
			})
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, sqliteErr(err))
		}
	}
	slices.SortStableFunc(ops, func(a, b gpuOp) int { return cmp.Compare(a.start, b.start) })
	return ops, nil
}

// kernelScan reads the kernel table: its query, with the columns the
// export has, and in groupDemangledGridBlock mode the interned groups.
type kernelScan struct {
	query  string
	by     groupBy
	intern map[string]int32
	groups *[]string
	// Counted during a pass, for the warnings: rows whose shortName is NULL
	// (named by their demangled name instead) and rows without a
	// correlationId (which no NVTX range can claim).
	nullNames, nullCorr int
}

// noName is the name id of a kernel row whose shortName and demangledName
// are both NULL; kernelName calls it "unnamed kernel".
const noName = -1

func (p *profile) newKernelScan(ctx context.Context, s *schema) *kernelScan {
	short := s.colOr(ctx, tKernel, "shortName", s.colOr(ctx, tKernel, "demangledName", "0"))
	extra := ""
	if p.by == groupDemangledGridBlock {
		extra = ", gridX, gridY, gridZ, blockX, blockY, blockZ"
	}
	return &kernelScan{
		query: fmt.Sprintf(`SELECT start, end, %s, %s, %s, %s, %s, %s%s FROM %s`,
			s.colOr(ctx, tKernel, "globalPid", "0"), s.colOr(ctx, tKernel, "correlationId", "0"),
			short, s.colOr(ctx, tKernel, "demangledName", short), s.colOr(ctx, tKernel, "deviceId", "0"),
			s.colOr(ctx, tKernel, "graphNodeId", "NULL"), extra, tKernel),
		by:     p.by,
		intern: map[string]int32{},
		groups: &p.groups,
	}
}

// op reads the current kernel row into op.
func (ks *kernelScan) op(rows *sqlread.Rows, op *gpuOp) {
	op.start, op.end = times(rows)
	op.key = opKey(rows.Int64(2), rows.Int64(3))
	op.name, op.demangled = int32(rows.Int64(4)), int32(uint32(rows.Int64(5)))
	if rows.IsNull(4) {
		// Not StringIds' id 0 (a real string, "GpuMetrics" in nsys 2025):
		// the demangled name, or none.
		ks.nullNames++
		op.name = noName
		if !rows.IsNull(5) {
			op.name = op.demangled
		}
	}
	if rows.IsNull(3) {
		ks.nullCorr++
	}
	op.device, op.inGraph = int32(rows.Int64(6)), !rows.IsNull(7)
	op.kind, op.bytes = opKernel, 0
	if ks.by != groupDemangledGridBlock {
		return
	}
	k := fmt.Sprintf("%d|%d %d %d|%d %d %d", op.demangled, rows.Int64(8), rows.Int64(9), rows.Int64(10),
		rows.Int64(11), rows.Int64(12), rows.Int64(13))
	id, ok := ks.intern[k]
	if !ok {
		id = int32(len(*ks.groups))
		ks.intern[k] = id
		*ks.groups = append(*ks.groups, k)
	}
	op.name = id
}

func (ks *kernelScan) resetCounts() {
	if ks != nil {
		ks.nullNames, ks.nullCorr = 0, 0
	}
}

// batchOps is how many kernel rows the reader hands over at a time.
const batchOps = 4096

// eachOp calls fn with every GPU op of the export in start order: the
// kernel table as it is read, merged with small (sorted). The rows are read
// on their own goroutine, a batch ahead of fn, so that SQLite's work and the
// aggregation overlap. A kernel table out of start order is errUnordered,
// after fn has seen part of it.
func (p *profile) eachOp(ctx context.Context, conn *sqlread.Conn, ks *kernelScan, small []gpuOp, fn func(*gpuOp)) error {
	next := 0
	emitUntil := func(start int64) {
		for next < len(small) && small[next].start < start {
			fn(&small[next])
			next++
		}
	}
	if ks != nil {
		full := make(chan []gpuOp, 2)
		free := make(chan []gpuOp, 3)
		for range cap(free) {
			free <- make([]gpuOp, 0, batchOps)
		}
		var err error
		var bad int
		go func() {
			defer close(full)
			bad, err = ks.read(ctx, conn, free, full)
		}()
		for b := range full {
			for i := range b {
				emitUntil(b[i].start)
				fn(&b[i])
			}
			free <- b[:0]
		}
		if bad > 0 {
			p.bad[tKernel] += bad
		}
		if err != nil {
			return err
		}
	}
	emitUntil(math.MaxInt64)
	for ; next < len(small); next++ {
		fn(&small[next])
	}
	return nil
}

// read reads the kernel table in start order into batches taken from free
// and sent to full, dropping rows with impossible times (counted in bad).
// A row out of start order stops it with errUnordered.
func (ks *kernelScan) read(ctx context.Context, conn *sqlread.Conn, free <-chan []gpuOp, full chan<- []gpuOp) (bad int, err error) {
	rows, err := conn.Query(ctx, ks.query)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	defer rows.Close()
	b := <-free
	prev := int64(math.MinInt64)
	for seq := int64(0); rows.Next(); seq++ {
		b = b[:len(b)+1]
		op := &b[len(b)-1]
		ks.op(rows, op)
		if impossible(op.start, op.end) {
			bad++
			b = b[:len(b)-1]
			continue
		}
		if op.start < prev {
			return bad, errUnordered
		}
		prev, op.seq = op.start, seq
		if len(b) == cap(b) {
			full <- b
			b = <-free
		}
	}
	if len(b) > 0 {
		full <- b
	}
	if err := rows.Err(); err != nil {
		return bad, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	return bad, nil
}

// sortedOps is eachOp for a kernel table out of start order: every kernel
// is read, then sorted.
func (p *profile) sortedOps(ctx context.Context, conn *sqlread.Conn, ks *kernelScan, small []gpuOp, fn func(*gpuOp)) error {
	var kernels []gpuOp
	rows, err := conn.Query(ctx, ks.query)
	if err != nil {
		return fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	defer rows.Close()
	for seq := int64(0); rows.Next(); seq++ {
		var op gpuOp
		ks.op(rows, &op)
		if impossible(op.start, op.end) {
			p.bad[tKernel]++
			continue
		}
		op.seq = seq
		kernels = append(kernels, op)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	slices.SortStableFunc(kernels, func(a, b gpuOp) int { return cmp.Compare(a.start, b.start) })
	next := 0
	for i := range kernels {
		for next < len(small) && small[next].start < kernels[i].start {
			fn(&small[next])
			next++
		}
		fn(&kernels[i])
	}
	for ; next < len(small); next++ {
		fn(&small[next])
	}
	return nil
}

// readOps streams every GPU op through the aggregates (opAcc), in start
// order; a kernel table out of that order is read again and sorted. When
// the ops span several devices or include communication, a second pass
// accounts them per device.
func (p *profile) readOps(ctx context.Context, s *schema) error {
	small, err := p.readSmallOps(ctx, s)
	if err != nil {
		return err
	}
	p.mode = TraceNode
	for _, op := range small {
		if op.kind == opGraph {
			p.mode = TraceGraph
			break
		}
	}
	var ks *kernelScan
	if s.has(tKernel) {
		ks = p.newKernelScan(ctx, s)
	}
	if p.inferring() {
		if err := p.inferFromOps(ctx, s, small); err != nil {
			return err
		}
	}
	p.startPass()
	ks.resetCounts()
	err = p.eachOp(ctx, s.db, ks, small, p.acc.add)
	if err == errUnordered {
		p.sorted.kernels = true
		p.startPass()
		ks.resetCounts()
		err = p.sortedOps(ctx, s.db, ks, small, p.acc.add)
	}
	if err != nil {
		return err
	}
	if ks != nil {
		p.nullNames = ks.nullNames
		if ks.nullCorr > 0 {
			p.nullCorr[tKernel] = ks.nullCorr
		}
	}
	if p.acc.ops == 0 {
		return errors.New("no GPU work in the export (no kernels, memcpys, memsets or graph replays)")
	}
	if p.acc.needDevices() {
		return p.readDevices(ctx, s, ks, small)
	}
	return nil
}

// startPass readies the aggregates for a (first or repeated) pass over the
// ops.
func (p *profile) startPass() {
	p.resetProjection()
	p.acc = newOpAcc(p)
	p.genericOps = nil
	delete(p.bad, tKernel)
}
