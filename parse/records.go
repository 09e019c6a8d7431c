package parse

import (
	"context"
	"encoding/binary"
	"math"

	"github.com/nsys-gate/gate/parse/internal/sqlread"
)

// Kernel records: where steps are inferred, no kernel can be attributed to
// a step before every launch has been seen, so the kernel table is read
// once into compact records (while the runtime table is read on the other
// connections), the launches for the inference are taken from them, and
// the aggregates are then added up from the records instead of a second
// read of the table: SQLite's work on the kernel table, most of the cost,
// is done once, as on the NVTX path.
//
// A record is a few varints, 6–8 bytes on real captures (5M kernels: about
// 35 MB): the correlation id as a delta from the previous row's, with a bit
// saying that the row's context follows, the start as a delta from the
// previous row's start, and the duration. The context is what a row shares
// with many others (process, names, device, graph membership), interned:
// rows come in long runs of one.

// recCtx is what a kernel row shares with many others (31 contexts on the
// real 420k-kernel capture).
type recCtx struct {
	pid             uint64
	name, demangled int32
	device          int32
	inGraph         bool
}

const (
	// recChunk is the size of one chunk of records (1 MiB): chunks spare
	// the copies of a growing slice.
	recChunk = 1 << 20
	// recMax bounds one record's bytes: four varints.
	recMax = 4 * binary.MaxVarintLen64
)

// kernelRecs is the kernel table as records, in table order.
type kernelRecs struct {
	chunks [][]byte
	n      int
	ctxs   []recCtx
	ctxIdx map[recCtx]uint32
	// perCtx counts the records of each context.
	perCtx []int
	// ordered says whether the rows came in start order.
	ordered bool
	// bad counts the rows dropped for impossible times.
	bad int
	// The last row's start, correlation id and context (lastIdx its
	// index, math.MaxUint32 before the first row).
	prevStart int64
	prevCorr  uint32
	last      recCtx
	lastIdx   uint32
}

func newKernelRecs() *kernelRecs {
	return &kernelRecs{ctxIdx: map[recCtx]uint32{}, ordered: true, lastIdx: math.MaxUint32}
}

// add appends a kernel op (its end not before its start).
func (r *kernelRecs) add(op *gpuOp) {
	c := recCtx{pid: op.key >> 40, name: op.name, demangled: op.demangled, device: op.device, inGraph: op.inGraph}
	var flag uint64
	if r.lastIdx == math.MaxUint32 || c != r.last {
		i, ok := r.ctxIdx[c]
		if !ok {
			i = uint32(len(r.ctxs))
			r.ctxs = append(r.ctxs, c)
			r.perCtx = append(r.perCtx, 0)
			r.ctxIdx[c] = i
		}
		r.last, r.lastIdx, flag = c, i, 1
	}
	r.perCtx[r.lastIdx]++
	if r.n > 0 && op.start < r.prevStart {
		r.ordered = false
	}
	if len(r.chunks) == 0 || cap(r.chunks[len(r.chunks)-1])-len(r.chunks[len(r.chunks)-1]) < recMax {
		r.chunks = append(r.chunks, make([]byte, 0, recChunk))
	}
	b := r.chunks[len(r.chunks)-1]
	corr := uint32(op.key)
	b = binary.AppendUvarint(b, zigzag(int64(int32(corr-r.prevCorr)))<<1|flag)
	if flag == 1 {
		b = binary.AppendUvarint(b, uint64(r.lastIdx))
	}
	// Starts lie within ±maxTime, so their difference fits an int64.
	b = binary.AppendUvarint(b, zigzag(op.start-r.prevStart))
	b = binary.AppendUvarint(b, uint64(op.end-op.start))
	r.chunks[len(r.chunks)-1] = b
	r.prevStart, r.prevCorr = op.start, corr
	r.n++
}

// each calls fn with every record as a kernel op, in table order; seq is
// the record's index.
func (r *kernelRecs) each(fn func(*gpuOp)) {
	var op gpuOp
	op.kind = opKernel
	var start int64
	var corr uint32
	var c *recCtx
	seq := int64(0)
	for _, b := range r.chunks {
		for i := 0; i < len(b); {
			v, n := binary.Uvarint(b[i:])
			i += n
			corr += uint32(unzigzag(v >> 1))
			if v&1 == 1 {
				x, n := binary.Uvarint(b[i:])
				i += n
				c = &r.ctxs[x]
			}
			d, n := binary.Uvarint(b[i:])
			i += n
			start += unzigzag(d)
			dur, n := binary.Uvarint(b[i:])
			i += n
			op.start, op.end = start, start+int64(dur)
			op.key = c.pid<<40 | uint64(corr)
			op.name, op.demangled, op.device, op.inGraph = c.name, c.demangled, c.device, c.inGraph
			op.seq = seq
			seq++
			fn(&op)
		}
	}
}

// perName counts the records of each kernel name (group) id: the sizes
// of the kernels' duration lists.
func (r *kernelRecs) perName() map[int32]int {
	out := map[int32]int{}
	for i, n := range r.perCtx {
		out[r.ctxs[i].name] += n
	}
	return out
}

// ops returns every record as a kernel op, in table order.
func (r *kernelRecs) ops() []gpuOp {
	out := make([]gpuOp, 0, r.n)
	r.each(func(op *gpuOp) { out = append(out, *op) })
	return out
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// readKernelRecs reads the kernel table into records on conn.
func readKernelRecs(ctx context.Context, conn *sqlread.Conn, ks *kernelScan) (*kernelRecs, error) {
	r := newKernelRecs()
	bad, err := ks.each(ctx, conn, false, r.add)
	r.bad = bad
	return r, err
}
