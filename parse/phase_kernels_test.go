package parse

import (
	"bytes"
	"cmp"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

// shippedExports are every export the tests ship, with the options each is
// read with: the H200 fixtures inside their "benchmark" scope, the
// third-party two-GPU capture whole, and a two-rank export assembled from
// the probe (communication and per-device detail).
func shippedExports(t *testing.T) map[string]struct {
	path string
	opts Options
} {
	t.Helper()
	out := map[string]struct {
		path string
		opts Options
	}{}
	for _, name := range []string{"probe", "base_a", "base_b", "base_graphmode", "regress_double_attn", "regress_no_graphs", "regress_host_sync", "vllm_real", "gm_base1"} {
		out[name] = struct {
			path string
			opts Options
		}{export(t, name), Options{Scope: "benchmark"}}
	}
	out["h100_2gpu_1s"] = struct {
		path string
		opts Options
	}{fixture(t, "third-party/h100_2gpu_1s.sqlite"), Options{}}
	out["tp2"] = struct {
		path string
		opts Options
	}{mgAssembleTP(t, 2), Options{}}
	// Steps inferred (no NVTX at all).
	for _, name := range []string{"nonvtx_base", "nonvtx_eager"} {
		out[name] = struct {
			path string
			opts Options
		}{export(t, name), Options{}}
	}
	return out
}

// TestPhaseByKernelSums: on every shipped export, each phase's per-kernel
// parts add up exactly to the summed kernel time and kernel count of its
// steps, a component's parts to its time and kernels in the phase's
// component table, are sorted, and name the summary's kernels; graph
// replays are one pseudo-entry, present only in graph-level traces.
func TestPhaseByKernelSums(t *testing.T) {
	for name, e := range shippedExports(t) {
		t.Run(name, func(t *testing.T) {
			s := mustExport(t, e.path, e.opts)
			kernels := map[string]Kernel{}
			for _, k := range s.Kernels {
				kernels[k.Name] = k
			}
			for phase, ph := range s.Phases {
				var wantNs, wantN int64
				for _, st := range ph.Samples {
					wantNs += st.KernelNs
					wantN += int64(st.Kernels)
				}
				var gotNs, gotN int64
				replays := false
				byComp := map[string]ComponentTime{}
				for _, k := range ph.ByKernel {
					gotNs += k.TotalNs
					gotN += k.Launches
					if k.Name == GraphReplaysKernel {
						replays = true
						if k.Launches != 0 {
							t.Errorf("%s: replay pseudo-entry has %d launches", phase, k.Launches)
						}
						continue
					}
					c := byComp[k.Component]
					c.TimeNs += k.TotalNs
					c.Kernels += k.Launches
					byComp[k.Component] = c
					row, ok := kernels[k.Name]
					if !ok || k.Launches <= 0 || k.Launches > row.Count || k.TotalNs > row.TotalNs {
						t.Errorf("%s: %+v does not fit the kernel row %+v", phase, k, row)
					}
				}
				table := map[string]ComponentTime{}
				for _, pc := range s.Components {
					if pc.Phase == phase {
						for _, c := range pc.Components {
							table[c.Name] = ComponentTime{TimeNs: c.TimeNs, Kernels: c.Kernels}
						}
					}
				}
				if !maps.Equal(byComp, table) {
					t.Errorf("%s: parts by component %v, the component table %v", phase, byComp, table)
				}
				if gotNs != wantNs || gotN != wantN {
					t.Errorf("%s: parts sum to %d ns, %d launches; the steps to %d ns, %d kernels", phase, gotNs, gotN, wantNs, wantN)
				}
				if wantNs > 0 && len(ph.ByKernel) == 0 {
					t.Errorf("%s: no parts", phase)
				}
				// Decode replays a graph per step; prefill runs eagerly.
				if replays && s.Source.TraceMode != TraceGraph || phase == PhaseDecode && replays != (s.Source.TraceMode == TraceGraph) {
					t.Errorf("%s: replay pseudo-entry %v in %s mode", phase, replays, s.Source.TraceMode)
				}
				if !slices.IsSortedFunc(ph.ByKernel, func(a, b PhaseKernel) int {
					return cmp.Or(cmp.Compare(b.TotalNs, a.TotalNs), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Component, b.Component))
				}) {
					t.Errorf("%s: parts not sorted by time, then name", phase)
				}
			}
		})
	}
}

// TestPhaseByKernelDoubleAttention: the doubled attention shows in the
// decode parts as twice the launches of the attention kernel per step.
func TestPhaseByKernelDoubleAttention(t *testing.T) {
	base := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	head := mustExport(t, export(t, "regress_double_attn"), Options{Scope: "benchmark"})
	perStep := func(s *Summary, comp string) float64 {
		ph := s.Phases[PhaseDecode]
		var n int64
		for _, k := range ph.ByKernel {
			if k.Component == comp {
				n += k.Launches
			}
		}
		return float64(n) / float64(ph.Steps)
	}
	b, h := perStep(base, CompAttention), perStep(head, CompAttention)
	if b <= 0 || h < 1.9*b {
		t.Errorf("attention launches per decode step %.1f -> %.1f, want about doubled", b, h)
	}
	if g := perStep(base, CompGEMM); g <= 0 || perStep(head, CompGEMM) != g {
		t.Errorf("gemm launches per decode step %.1f -> %.1f, want unchanged", g, perStep(head, CompGEMM))
	}
}

// TestOldSummaryLoads: a summary written before by_kernel existed still
// decodes, with no parts.
func TestOldSummaryLoads(t *testing.T) {
	s, err := DecodeSummary(bytes.NewReader(exporttest.Gunzip(t, filepath.Join("..", "testdata", "gpu", "base.summary.json.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	dec := s.Phases[PhaseDecode]
	if dec == nil || dec.Steps == 0 || dec.ByKernel != nil {
		t.Errorf("decode %v", dec)
	}
}
