package parse

import (
	"context"
	"strconv"
	"testing"
)

// rangeKey identifies a push/pop range across gate and nsys stats output:
// its name and CPU start are unique in the fixtures.
type rangeKey struct {
	name  string
	start int64
}

func atoi(tb testing.TB, s string) int64 {
	tb.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("bad integer %q: %v", s, err)
	}
	return v
}

// projected returns gate's nsys-compatible projection of every range with
// GPU work, keyed like the reference.
func projected(t *testing.T, name string) (map[rangeKey]nvtxRange, *profile) {
	t.Helper()
	p, err := load(context.Background(), export(t, name), Options{}, groupShort)
	if err != nil {
		t.Fatal(err)
	}
	got := map[rangeKey]nvtxRange{}
	for _, r := range p.ranges {
		if r.projOps == 0 {
			continue // nsys drops ranges without GPU ops
		}
		k := rangeKey{r.name, r.start}
		if _, dup := got[k]; dup {
			t.Fatalf("%s: two ranges %q start at %d", name, r.name, r.start)
		}
		got[k] = r
	}
	return got, p
}

// matchNsysRow finds the range of one nvtxgpuproj row among gate's and
// checks its projection against nsys's, to the nanosecond: start, duration
// and the number of distinct GPU ops. ok is false (and an error reported)
// when gate has no such range.
func matchNsysRow(t *testing.T, got map[rangeKey]nvtxRange, row map[string]string) (rangeKey, nvtxRange, bool) {
	t.Helper()
	k := rangeKey{row["Name"], atoi(t, row["Orig Start (ns)"])}
	r, ok := got[k]
	if !ok {
		t.Errorf("range %v: in nsys stats, not projected by gate", k)
		return k, r, false
	}
	if r.projStart != atoi(t, row["Projected Start (ns)"]) ||
		r.projEnd-r.projStart != atoi(t, row["Projected Duration (ns)"]) ||
		int64(r.projOps) != atoi(t, row["NumGPUOps"]) {
		t.Errorf("range %v: gate start %d dur %d ops %d; nsys start %s dur %s ops %s",
			k, r.projStart, r.projEnd-r.projStart, r.projOps,
			row["Projected Start (ns)"], row["Projected Duration (ns)"], row["NumGPUOps"])
	}
	return k, r, true
}

// TestProjectionMatchesNsysStats checks the NVTX→GPU projection against what
// `nsys stats -r nvtxgpuproj` printed for the same exports, to the
// nanosecond: projected start, duration and the number of distinct GPU ops,
// for every push/pop range, and no range more or less.
func TestProjectionMatchesNsysStats(t *testing.T) {
	for _, name := range []string{"base_a", "regress_double_attn", "vllm_real"} {
		t.Run(name, func(t *testing.T) {
			got, _ := projected(t, name)
			ref := readCSV(t, "nsys-stats/"+name+"_nvtxgpuproj.csv.gz")
			if len(ref) < 99 {
				t.Fatalf("reference has only %d ranges", len(ref))
			}
			for _, row := range ref {
				k, r, ok := matchNsysRow(t, got, row)
				if !ok {
					continue
				}
				delete(got, k)
				if r.end-r.start != atoi(t, row["Orig Duration (ns)"]) {
					t.Errorf("range %v: gate's CPU duration %d, nsys's %s", k, r.end-r.start, row["Orig Duration (ns)"])
				}
				// In node mode gate's own span is the same projection.
				if r.spanStart != r.projStart || r.spanEnd != r.projEnd {
					t.Errorf("range %v: span [%d,%d] differs from projection [%d,%d] in a node-traced export",
						k, r.spanStart, r.spanEnd, r.projStart, r.projEnd)
				}
			}
			for k := range got {
				t.Errorf("range %v: projected by gate, absent from nsys stats", k)
			}
		})
	}
}

// TestProjectionGraphMode pins the one expected difference from nsys stats:
// in a --cuda-graph-trace=graph export, nvtxgpuproj projects only kernels,
// memcpys and memsets and ignores CUPTI_ACTIVITY_KIND_GRAPH_TRACE rows, so
// to nsys a decode step is only its few eager ops (4 here). gate's
// nsys-compatible projection still agrees to the ns, but the GPU work gate
// counts for the step includes the replay: one more op, a span at least as
// long, and (checked in TestGraphModeSummary) busy time that is mostly the
// replay.
func TestProjectionGraphMode(t *testing.T) {
	got, p := projected(t, "base_graphmode")
	if p.mode != TraceGraph {
		t.Fatalf("trace mode %q, want graph", p.mode)
	}
	ref := readCSV(t, "nsys-stats/base_graphmode_nvtxgpuproj.csv.gz")
	longer := 0
	for _, row := range ref {
		k, r, ok := matchNsysRow(t, got, row)
		if !ok {
			continue
		}
		if row["Name"] == "decode" {
			if r.spanStart > r.projStart || r.spanEnd < r.projEnd {
				t.Errorf("decode %v: span %d shorter than nsys's %d although it adds a graph replay",
					k, r.spanEnd-r.spanStart, r.projEnd-r.projStart)
			}
			if r.spanOps != r.projOps+1 {
				t.Errorf("decode %v: %d ops with the replay, want nsys's %d + 1", k, r.spanOps, r.projOps)
			}
			longer++
		}
	}
	if longer != 96 {
		t.Errorf("%d decode ranges checked, want 96", longer)
	}
}
