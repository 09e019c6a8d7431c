package parse

import "testing"

// TestProjectSharedCorrelation: when two runtime calls in different ranges
// share a correlation id (seen on real captures), the op counts once in
// each range, including their common parent.
func TestProjectSharedCorrelation(t *testing.T) {
	p := &profile{
		scope: -1,
		ranges: []nvtxRange{
			{name: "A", tid: 1, start: 0, end: 100, parent: -1, step: -1},
			{name: "B", tid: 1, start: 10, end: 20, parent: 0, step: -1},
			{name: "C", tid: 1, start: 30, end: 40, parent: 0, step: -1},
		},
		isScope: make([]bool, 3),
		calls:   newCallMap(),
	}
	ops := []gpuOp{
		{start: 50, end: 60, key: opKey(1<<24, 7), kind: opKernel},
		{start: 70, end: 75, key: opKey(1<<24, 7), kind: opKernel},
		{start: 80, end: 90, key: opKey(1<<24, 8), kind: opGraph},
		{start: 95, end: 99, key: opKey(2<<24, 8), kind: opKernel}, // other process
	}
	byTid := nest(p.ranges)
	for _, call := range []struct{ start, end, corr int64 }{{11, 12, 7}, {31, 32, 7}, {41, 42, 8}} {
		if err := p.calls.add(opKey(1<<24|1, call.corr), innermost(p.ranges, byTid[1], call.start, call.end)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.calls.add(opKey(1<<24|1, 6), 0); err != errUnordered {
		t.Errorf("a call out of order: %v", err)
	}
	p.resetProjection()
	for i := range ops {
		p.project(&ops[i], true)
	}
	want := []struct {
		projOps, spanOps    int
		projStart, projEnd  int64
		spanStart, spanEnd_ int64
	}{
		{1, 2, 50, 75, 50, 90}, // A: corr 7 once, plus the graph replay (corr 8) in the span only
		{1, 1, 50, 75, 50, 75},
		{1, 1, 50, 75, 50, 75},
	}
	for i, w := range want {
		r := p.ranges[i]
		if r.projOps != w.projOps || r.spanOps != w.spanOps || r.projStart != w.projStart || r.projEnd != w.projEnd ||
			r.spanStart != w.spanStart || r.spanEnd != w.spanEnd_ {
			t.Errorf("range %s: proj %d [%d,%d] span %d [%d,%d], want %+v", r.name, r.projOps, r.projStart, r.projEnd,
				r.spanOps, r.spanStart, r.spanEnd, w)
		}
	}
}

func TestInnermost(t *testing.T) {
	ranges := []nvtxRange{
		{tid: 1, start: 0, end: 10, parent: -1},
		{tid: 1, start: 1, end: 8, parent: -1},
		{tid: 1, start: 2, end: 3, parent: -1},
		{tid: 1, start: 12, end: 20, parent: -1},
	}
	by := nest(ranges)
	tests := []struct {
		start, end int64
		want       int32
	}{
		{2, 3, 2}, // exactly the inner range
		{4, 5, 1}, // after the inner range closed: its parent
		{7, 9, 0}, // straddles the middle range's end: only the outer contains it
		{10, 11, -1},
		{12, 12, 3},
		{-5, 1, -1},
	}
	for _, tt := range tests {
		if got := innermost(ranges, by[1], tt.start, tt.end); got != tt.want {
			t.Errorf("innermost(%d,%d) = %d, want %d", tt.start, tt.end, got, tt.want)
		}
	}
	if innermost(ranges, by[2], 1, 2) != -1 {
		t.Error("a call on another thread matched")
	}
}

// TestCallCount: a key's first op counts in the ranges' spans, its first op
// that is not a graph replay in their nsys projections, whatever the order;
// a new pass starts over.
func TestCallCount(t *testing.T) {
	m := newCallMap()
	key := opKey(3<<24, 77)
	if err := m.add(key, 0); err != nil {
		t.Fatal(err)
	}
	type counted struct{ proj, span bool }
	for _, tt := range []struct {
		name  string
		ops   []bool // graph replay?
		wants []counted
	}{
		{"kernels", []bool{false, false}, []counted{{true, true}, {false, false}}},
		{"replay first", []bool{true, false, true, false}, []counted{{false, true}, {true, false}, {false, false}, {false, false}}},
		{"replays only", []bool{true, true}, []counted{{false, true}, {false, false}}},
	} {
		m.resetCounted()
		for i, graph := range tt.ops {
			rng, slot := m.find(key)
			if rng != 0 {
				t.Fatalf("%s: range %d", tt.name, rng)
			}
			proj, span := slot.count(graph)
			if got := (counted{proj, span}); got != tt.wants[i] {
				t.Errorf("%s: op %d counted %+v, want %+v", tt.name, i, got, tt.wants[i])
			}
		}
	}
	if rng, _ := m.find(opKey(3<<24, 78)); rng != -1 {
		t.Errorf("a key never kept found in range %d", rng)
	}
}
