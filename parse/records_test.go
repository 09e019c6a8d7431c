package parse

import (
	"math"
	"reflect"
	"testing"
)

// TestKernelRecsRoundTrip: kernel ops read back from their records are the
// ops added (seq their index), whatever the deltas: starts going backwards
// (a table out of order), the extremes of plausible times and durations,
// correlation ids wrapping around 32 bits, a new context on any row; and
// the records count the rows of each kernel name.
func TestKernelRecsRoundTrip(t *testing.T) {
	op := func(start, end int64, pid uint64, corr uint32, name int32, dev int32, graph bool) gpuOp {
		return gpuOp{start: start, end: end, key: pid<<40 | uint64(corr), name: name, demangled: name + 100, device: dev, inGraph: graph, kind: opKernel}
	}
	in := []gpuOp{
		op(1000, 1500, 7, 5, 1, 0, false),
		op(2000, 2100, 7, 6, 1, 0, false),
		op(1900, 1900, 7, 4, 2, 0, true), // back in time and in correlation id
		op(-maxTime, maxTime, 7, math.MaxUint32, 2, 0, true),
		op(maxTime, maxTime, 9, 0, 1, 1, false), // corr wraps, new process
		op(-maxTime, -maxTime+1, 9, 1, 3, 1, false),
		op(0, 0, 1<<23, 3, -1, 2, false), // noName
	}
	r := newKernelRecs()
	for i := range in {
		r.add(&in[i])
	}
	for i := range in {
		in[i].seq = int64(i)
	}
	if got := r.ops(); !reflect.DeepEqual(got, in) {
		t.Errorf("read back:\n%+v\nwant\n%+v", got, in)
	}
	if r.ordered {
		t.Error("ordered: want false (row 3 starts before row 2)")
	}
	if got, want := r.perName(), map[int32]int{1: 3, 2: 2, 3: 1, -1: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("perName %v, want %v", got, want)
	}
	// Many rows of one context cost a few bytes each, and fill more than
	// one chunk.
	r = newKernelRecs()
	for i := range 1 << 18 {
		o := op(int64(i)*3000, int64(i)*3000+1200, 7, uint32(i), 1, 0, false)
		r.add(&o)
	}
	size := 0
	for _, c := range r.chunks {
		size += len(c)
	}
	if r.n != 1<<18 || !r.ordered || size > 5*r.n {
		t.Errorf("%d records ordered %v in %d bytes, want at most 5 a record", r.n, r.ordered, size)
	}
	n := 0
	r.each(func(o *gpuOp) {
		if o.start != int64(n)*3000 || o.end-o.start != 1200 || uint32(o.key) != uint32(n) {
			t.Fatalf("record %d: %+v", n, *o)
		}
		n++
	})
}
