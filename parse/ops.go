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
	m := merger{small: small, fn: fn}
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
			b := <-free
			bad, err = ks.each(ctx, conn, true, func(op *gpuOp) {
				b = append(b, *op)
				if len(b) == cap(b) {
					full <- b
					b = <-free
				}
			})
			if len(b) > 0 {
				full <- b
			}
		}()
		for b := range full {
			for i := range b {
				m.kernel(&b[i])
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
	m.rest()
	return nil
}

// merger merges the kernel ops, in start order, with the other ops (small,
// sorted): each kernel comes after the ops that start before it.
type merger struct {
	small []gpuOp
	next  int
	fn    func(*gpuOp)
}

func (m *merger) kernel(op *gpuOp) {
	for m.next < len(m.small) && m.small[m.next].start < op.start {
		m.fn(&m.small[m.next])
		m.next++
	}
	m.fn(op)
}

// rest passes the ops after the last kernel.
func (m *merger) rest() {
	for ; m.next < len(m.small); m.next++ {
		m.fn(&m.small[m.next])
	}
}

// each reads the kernel table in table order on conn and calls fn with
// every row (seq its place in the table), dropping rows with impossible
// times (counted in bad). With ordered set, a row out of start order stops
// it with errUnordered.
func (ks *kernelScan) each(ctx context.Context, conn *sqlread.Conn, ordered bool, fn func(*gpuOp)) (bad int, err error) {
	rows, err := conn.Query(ctx, ks.query)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", tKernel, sqliteErr(err))
	}
	defer rows.Close()
	var op gpuOp
	prev := int64(math.MinInt64)
	for seq := int64(0); rows.Next(); seq++ {
		ks.op(rows, &op)
		if impossible(op.start, op.end) {
			bad++
			continue
		}
		if ordered && op.start < prev {
			return bad, errUnordered
		}
		prev, op.seq = op.start, seq
		fn(&op)
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
	bad, err := ks.each(ctx, conn, false, func(op *gpuOp) { kernels = append(kernels, *op) })
	if bad > 0 {
		p.bad[tKernel] += bad
	}
	if err != nil {
		return err
	}
	replaySorted(kernels, small, fn)
	return nil
}

// replaySorted calls fn with kernels, sorted by start, merged with small.
func replaySorted(kernels, small []gpuOp, fn func(*gpuOp)) {
	slices.SortStableFunc(kernels, func(a, b gpuOp) int { return cmp.Compare(a.start, b.start) })
	m := merger{small: small, fn: fn}
	for i := range kernels {
		m.kernel(&kernels[i])
	}
	m.rest()
}

// readOps streams every GPU op through the aggregates (opAcc), in start
// order (see opPass). When the ops span several devices or include
// communication, a second pass accounts them per device.
func (p *profile) readOps(ctx context.Context, s *schema, ks *kernelScan) error {
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
	if p.inferring() {
		p.inferFromOps(small)
	}
	err = p.opPass(ctx, s, ks, small, func() func(*gpuOp) {
		p.startPass()
		return p.acc.add
	})
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

// opPass passes every GPU op, in start order, to the function that start
// returns; start is called again when the pass has to begin anew (a kernel
// table found out of start order is then read whole and sorted,
// p.sorted.kernels). Where the kernel table was read into records (steps
// inferred, see records.go) the kernels come from them instead. The kernel
// rows dropped for impossible times are p.bad[tKernel] after the pass.
func (p *profile) opPass(ctx context.Context, s *schema, ks *kernelScan, small []gpuOp, start func() func(*gpuOp)) error {
	delete(p.bad, tKernel)
	if r := p.recs; r != nil {
		if r.bad > 0 {
			p.bad[tKernel] = r.bad
		}
		fn := start()
		if !r.ordered {
			p.sorted.kernels = true
			replaySorted(r.ops(), small, fn)
			return nil
		}
		m := merger{small: small, fn: fn}
		r.each(m.kernel)
		m.rest()
		return nil
	}
	ks.resetCounts()
	err := p.eachOp(ctx, s.db, ks, small, start())
	if err == errUnordered {
		p.sorted.kernels = true
		delete(p.bad, tKernel)
		ks.resetCounts()
		err = p.sortedOps(ctx, s.db, ks, small, start())
	}
	return err
}

// startPass readies the aggregates for a (first or repeated) pass over the
// ops.
func (p *profile) startPass() {
	p.resetProjection()
	p.acc = newOpAcc(p)
	p.genericOps = nil
}
