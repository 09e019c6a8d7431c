package parse

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// mgUnzip decompresses ../testdata/<rel>.gz into a temp dir of t: a copy
// the test may edit.
func mgUnzip(t testing.TB, rel string) string {
	t.Helper()
	return exporttest.Decompress(t, filepath.Join("..", "testdata", rel+".gz"), t.TempDir())
}

func mgNear(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// TestMergeRanksTwin merges two copies of one profile: everything counted
// doubles, everything per step or per device stays as it was.
func TestMergeRanksTwin(t *testing.T) {
	one := mustExport(t, export(t, "probe"), Options{})
	m, err := MergeRanks([]*Summary{one, mustExport(t, export(t, "probe"), Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if m.GPU.Devices != 2 || len(m.Devices) != 2 {
		t.Fatalf("GPU.Devices = %d, %d devices; want 2", m.GPU.Devices, len(m.Devices))
	}
	var kernelNs, kernels int64
	for _, k := range one.Kernels {
		kernelNs += k.TotalNs
		kernels += k.Count
	}
	for i, d := range m.Devices {
		if d.ID != i || d.BusyNs != one.GPUTime.BusyNs || d.KernelNs != kernelNs || d.Kernels != kernels || d.Name != one.GPU.Name {
			t.Errorf("device %d = %+v, want id %d, busy %d ns, %d kernels in %d ns", i, d, i, one.GPUTime.BusyNs, kernels, kernelNs)
		}
	}
	if m.Source.File != "probe.sqlite+probe.sqlite" {
		t.Errorf("source file %q", m.Source.File)
	}
	if len(m.Kernels) != len(one.Kernels) {
		t.Fatalf("%d kernels, want %d", len(m.Kernels), len(one.Kernels))
	}
	for i, k := range m.Kernels {
		o := one.Kernels[i]
		if k.Name != o.Name || k.Count != 2*o.Count || k.TotalNs != 2*o.TotalNs || !mgNear(k.Share, o.Share) ||
			!mgNear(k.P50Ns, o.P50Ns) || !mgNear(k.PerDecodeStep, o.PerDecodeStep) || k.MinNs != o.MinNs {
			t.Errorf("kernel %d: got %+v\nfrom one rank %+v", i, k, o)
		}
	}
	if !mgNear(m.GPUTime.BusyPct, one.GPUTime.BusyPct) || m.GPUTime.BusyNs != 2*one.GPUTime.BusyNs {
		t.Errorf("gpu_time %+v, one rank %+v", m.GPUTime, one.GPUTime)
	}
	if len(m.Phases) != len(one.Phases) || len(one.Phases) == 0 {
		t.Fatalf("%d phases, one rank has %d", len(m.Phases), len(one.Phases))
	}
	for name, ph := range one.Phases {
		got := m.Phases[name]
		if got == nil || got.Steps != ph.Steps || got.Span != ph.Span || got.Kernels != ph.Kernels {
			t.Errorf("phase %s: got %+v, want %+v", name, got, ph)
			continue
		}
		for j, st := range got.Samples {
			if st.Device != 0 || st.SpanNs != ph.Samples[j].SpanNs {
				t.Errorf("phase %s step %d: device %d span %d, want rank 0's %d (ties go to the first rank)", name, j, st.Device, st.SpanNs, ph.Samples[j].SpanNs)
			}
		}
	}
	for _, op := range m.Memory.Ops {
		for _, o := range one.Memory.Ops {
			if o.Kind == op.Kind && o.Direction == op.Direction && (op.Count != 2*o.Count || op.Bytes != 2*o.Bytes || !mgNear(op.GBps, o.GBps)) {
				t.Errorf("memory %s %s: got %+v, one rank %+v", op.Kind, op.Direction, op, o)
			}
		}
	}
	if m.CUDAGraphs.KernelsInGraphs != 2*one.CUDAGraphs.KernelsInGraphs || !mgNear(m.CUDAGraphs.CoverageTime, one.CUDAGraphs.CoverageTime) {
		t.Errorf("graphs %+v, one rank %+v", m.CUDAGraphs, one.CUDAGraphs)
	}
	if m.Communication != nil {
		t.Errorf("communication %+v in a profile without communication kernels", m.Communication)
	}
	for _, w := range m.Warnings {
		if w.Code == WarnRankSteps {
			t.Errorf("unexpected warning %+v", w)
		}
	}
}

// TestMergeRanksSlowest merges two runs of the same workload: each step is
// the slower rank's, and the device says which.
func TestMergeRanksSlowest(t *testing.T) {
	a := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	b := mustExport(t, export(t, "base_b"), Options{Scope: "benchmark"})
	m, err := MergeRanks([]*Summary{a, b})
	if err != nil {
		t.Fatal(err)
	}
	dec := m.Phases[PhaseDecode]
	if dec == nil || dec.Steps != 96 {
		t.Fatalf("decode phase %+v, want 96 steps", dec)
	}
	fromB := 0
	for j, st := range dec.Samples {
		sa, sb := a.Phases[PhaseDecode].Samples[j], b.Phases[PhaseDecode].Samples[j]
		want, dev := sa, 0
		if sb.SpanNs > sa.SpanNs {
			want, dev = sb, 1
			fromB++
		}
		if st.SpanNs != want.SpanNs || st.StartNs != want.StartNs || st.Device != dev {
			t.Errorf("decode step %d: span %d device %d, want %d from device %d", j, st.SpanNs, st.Device, want.SpanNs, dev)
		}
	}
	if fromB == 0 || fromB == 96 {
		t.Errorf("%d of 96 steps from rank 1: two real runs should each be slower sometimes", fromB)
	}
	if dec.Span.P50 < a.Phases[PhaseDecode].Span.P50 || dec.Span.P50 < b.Phases[PhaseDecode].Span.P50 {
		t.Errorf("merged decode span p50 %.0f below a rank's (%.0f, %.0f)", dec.Span.P50, a.Phases[PhaseDecode].Span.P50, b.Phases[PhaseDecode].Span.P50)
	}
	if m.Devices[0].BusyNs != a.GPUTime.BusyNs || m.Devices[1].BusyNs != b.GPUTime.BusyNs {
		t.Errorf("device busy %d, %d; want %d, %d", m.Devices[0].BusyNs, m.Devices[1].BusyNs, a.GPUTime.BusyNs, b.GPUTime.BusyNs)
	}
	if m.Devices[0].Steps != a.Phases[PhaseDecode].Span || m.Devices[1].Steps != b.Phases[PhaseDecode].Span {
		t.Errorf("device step spans %+v, %+v; want the ranks' decode spans", m.Devices[0].Steps, m.Devices[1].Steps)
	}
}

// TestMergeRanksCommunication names collectives from kernel names when the
// ranks' summaries have no communication section, and says that exposure is
// unknown.
func TestMergeRanksCommunication(t *testing.T) {
	var ranks []*Summary
	for i := 0; i < 2; i++ {
		s := mustExport(t, export(t, "probe"), Options{})
		s.Kernels[len(s.Kernels)-1].Name = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL"
		s.Kernels[len(s.Kernels)-1].Component = CompCommunication
		ranks = append(ranks, s)
	}
	last := ranks[0].Kernels[len(ranks[0].Kernels)-1]
	m, err := MergeRanks(ranks)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Communication
	if c == nil || len(c.Collectives) != 1 {
		t.Fatalf("communication %+v, want one collective", c)
	}
	if got := c.Collectives[0]; got.Name != CollAllReduce || got.Count != 2*last.Count || got.TimeNs != 2*last.TotalNs || !mgNear(got.Share, last.Share) {
		t.Errorf("collective %+v, want AllReduce ×%d in %d ns, share %v", got, 2*last.Count, 2*last.TotalNs, last.Share)
	}
	if c.ExposedNs != 0 || c.ExposedPct != 0 {
		t.Errorf("exposed %d ns (%v%%) from ranks that do not know it", c.ExposedNs, c.ExposedPct)
	}
	n := 0
	for _, w := range m.Warnings {
		if w.Code == WarnRankNoExposure {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d %s warnings, want one per rank: %+v", n, WarnRankNoExposure, m.Warnings)
	}
	if m.Devices[0].CommNs != last.TotalNs {
		t.Errorf("device 0 comm %d ns, want %d", m.Devices[0].CommNs, last.TotalNs)
	}
}

func TestMergeRanksStepsDiffer(t *testing.T) {
	probe := mustExport(t, export(t, "probe"), Options{Scope: "benchmark"})
	base := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	m, err := MergeRanks([]*Summary{base, probe})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Phases[PhaseDecode].Steps, probe.Phases[PhaseDecode].Steps; got != want {
		t.Errorf("decode steps %d, want the fewer, %d", got, want)
	}
	var msgs []string
	for _, w := range m.Warnings {
		if w.Code == WarnRankSteps {
			msgs = append(msgs, w.Message)
		}
	}
	if len(msgs) != 2 || !strings.Contains(strings.Join(msgs, "\n"), "rank 0: 96, rank 1: 4") {
		t.Errorf("warnings %q, want one per phase naming the counts", msgs)
	}
}

func TestMergeRanksErrors(t *testing.T) {
	probe := func() *Summary { return mustExport(t, export(t, "probe"), Options{}) }
	other := probe()
	other.GPU.Name = "NVIDIA H100 80GB HBM3"
	newer := probe()
	newer.Source.NsysVersion = "2026.2.1.210"
	legacy := probe()
	legacy.Source.Legacy = true
	graph := mustExport(t, export(t, "base_graphmode"), Options{})
	tests := []struct {
		name  string
		ranks []*Summary
		want  string
	}{
		{"none", nil, "no summaries"},
		{"nil rank", []*Summary{probe(), nil}, "rank 1: no summary"},
		{"legacy", []*Summary{probe(), legacy}, "legacy"},
		{"other GPU", []*Summary{probe(), other}, `GPU model differs: base "NVIDIA H200", head "NVIDIA H100 80GB HBM3"`},
		{"trace mode", []*Summary{probe(), graph}, `rank 1 (base_graphmode.sqlite) is not comparable with rank 0 (probe.sqlite), the base: CUDA-graph trace mode differs: base "node", head "graph"`},
		{"nsys major", []*Summary{probe(), newer}, "Nsight Systems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MergeRanks(tt.ranks)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
