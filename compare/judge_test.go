package compare

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// Each shipped regression, swapped (the regression as base, the fixed code
// as head), passes and says what improved; the cause comes first.
func TestFixingARegressionPassesAndImproves(t *testing.T) {
	for _, tc := range []struct {
		base string
		want []string // improvements that must be listed, the first first
	}{
		{"regress_double_attn", []string{"phases.decode.span.p50", "phases.decode.kernels", "components.decode.attention.time"}},
		// An eager base gates no launches outside graphs: the mode names it.
		{"regress_no_graphs", []string{"phases.decode.span.p50", "phases.decode.graph_mode"}},
		{"regress_host_sync", []string{"phases.decode.span.p50", "phases.decode.dtoh", "phases.decode.syncs"}},
	} {
		r := compareFixtures(t, tc.base, "base_a")
		if r.Verdict != Pass {
			var nonPass []string
			for _, m := range r.Metrics {
				if m.Verdict == Fail || m.Verdict == Warn {
					nonPass = append(nonPass, string(m.Verdict)+" "+m.Name+": "+m.Note)
				}
			}
			t.Errorf("%s -> base_a: %s, want pass: %q", tc.base, r.Verdict, nonPass)
		}
		if len(r.Improvements) == 0 || r.Improvements[0].Metric != tc.want[0] {
			t.Errorf("%s -> base_a: improvements %+v, want %s first", tc.base, r.Improvements, tc.want[0])
			continue
		}
		got := map[string]bool{}
		for _, f := range r.Improvements {
			got[f.Metric] = true
			if Compositional(f.Metric) {
				t.Errorf("%s -> base_a: compositional %s listed as an improvement", tc.base, f.Metric)
			}
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%s -> base_a: %s not among the improvements", tc.base, w)
			}
		}
	}
}

// Every shipped regression still fails, with its phase's step time as the
// cause, and the structural cause right behind the step times.
func TestRegressionsNameTheirCause(t *testing.T) {
	for _, tc := range []struct {
		head       string
		structural string // the first regression after the step times
	}{
		{"regress_double_attn", "phases.decode.kernels"},
		{"regress_no_graphs", "cuda_graphs.outside"},
		{"regress_host_sync", "phases.decode.memcpys"},
	} {
		r := compareFixtures(t, "base_a", tc.head)
		if r.Verdict != Fail || len(r.Regressions) == 0 {
			t.Errorf("%s: verdict %s, regressions %v", tc.head, r.Verdict, r.Regressions)
			continue
		}
		if c := r.Regressions[0]; c.Metric != "phases.decode.span.p50" || c.Label != "decode step p50" || c.Class != ClassStepTime {
			t.Errorf("%s: cause %+v, want the decode step", tc.head, c)
		}
		for _, f := range r.Regressions {
			if f.Class == ClassStepTime && !Compositional(f.Metric) {
				continue
			}
			if f.Metric != tc.structural {
				t.Errorf("%s: first regression after the step times is %s, want %s", tc.head, f.Metric, tc.structural)
			}
			break
		}
		// Ranked: failures, then warnings, then what explains them.
		seenWarn := false
		for _, f := range r.Regressions {
			m := metricVerdicts(r)[f.Metric]
			if m.Verdict == Warn {
				seenWarn = true
			} else if seenWarn {
				t.Errorf("%s: failure %s ranked after a warning", tc.head, f.Metric)
			}
		}
		if len(r.Improvements) != 0 {
			t.Errorf("%s: improvements %+v in a pure regression", tc.head, r.Improvements)
		}
	}
}

// A component's share moves when anything else moves: attention got faster,
// so GEMM's share rose with GEMM time unchanged. That passes with a note; a
// share that rose with its own time failing warns.
func TestSharesNeverFailAlone(t *testing.T) {
	comps := func(attn, gemm int64) []parse.PhaseComponents {
		tot := float64(attn + gemm)
		return []parse.PhaseComponents{{Phase: "decode", Components: []parse.ComponentTime{
			{Name: "attention", TimeNs: attn, Share: float64(attn) / tot},
			{Name: "gemm", TimeNs: gemm, Share: float64(gemm) / tot},
		}}}
	}
	base, head := summary(spans(48, 1e6, 100)...), summary(spans(48, 1e6, 100)...)
	base.Components, head.Components = comps(60e6, 40e6), comps(30e6, 40e6)
	r := Compare(base, head, Options{})
	m := metric(t, r, "components.decode.gemm.share")
	if m.Verdict != Pass || !strings.Contains(m.Note, "compositional") || m.Improved {
		t.Errorf("gemm share +17 pp with gemm time unchanged: %s %q", m.Verdict, m.Note)
	}
	if r.Verdict != Pass {
		t.Errorf("verdict %s: %v", r.Verdict, failing(r))
	}
	// GEMM time itself doubles: the time fails, the share warns beside it.
	head.Components = comps(60e6, 80e6)
	r = Compare(base, head, Options{})
	if m := metric(t, r, "components.decode.gemm.time"); m.Verdict != Fail {
		t.Errorf("gemm time: %s", m.Verdict)
	}
	if m := metric(t, r, "components.decode.gemm.share"); m.Verdict != Warn || !strings.Contains(m.Note, "decode gemm time") {
		t.Errorf("gemm share beside its time: %s %q", m.Verdict, m.Note)
	}
	if f := r.Regressions[len(r.Regressions)-1]; f.Metric != "components.decode.gemm.share" {
		t.Errorf("the share should be read last: %+v", r.Regressions)
	}
}

// Coverage by time falls when graph kernels get faster: not a failure.
func TestCoverageByTimeExplains(t *testing.T) {
	base, head := summary(spans(48, 1e6, 100)...), summary(spans(48, 1e6, 100)...)
	base.CUDAGraphs = parse.Graphs{KernelsInGraphs: 900, KernelsOutside: 100, CoverageCount: 90, CoverageTime: 70}
	head.CUDAGraphs = parse.Graphs{KernelsInGraphs: 900, KernelsOutside: 100, CoverageCount: 90, CoverageTime: 60}
	r := Compare(base, head, Options{})
	if m := metric(t, r, "cuda_graphs.coverage_time"); m.Verdict != Pass || !strings.Contains(m.Note, "compositional") {
		t.Errorf("coverage_time -10 pp alone: %s %q", m.Verdict, m.Note)
	}
	// Graph kernels removed (an optimisation): launch coverage falls, no
	// launch left a graph.
	head.CUDAGraphs = parse.Graphs{KernelsInGraphs: 450, KernelsOutside: 100, CoverageCount: 81.8, CoverageTime: 60}
	if r := Compare(base, head, Options{}); r.Verdict != Pass {
		t.Errorf("graph kernels removed: %s %v", r.Verdict, failing(r))
	}
}

// Added, removed and changed kernels are news: shown, never failures. What
// they cost fails (here: kernels per step).
func TestKernelSetIsNews(t *testing.T) {
	base, head := summary(spans(48, 1e6, 100)...), summary(spans(48, 1e6, 100)...)
	base.Kernels = []parse.Kernel{{Name: "eager_attention", Component: "attention", TotalNs: 5e7, Count: 480, Share: 0.5, PerDecodeStep: 10},
		{Name: "gemm_a", Component: "gemm", TotalNs: 5e7, Count: 480, Share: 0.5, PerDecodeStep: 10}}
	head.Kernels = []parse.Kernel{{Name: "sdpa_flash", Component: "attention", TotalNs: 3e7, Count: 480, Share: 0.375, PerDecodeStep: 10},
		{Name: "gemm_a", Component: "gemm", TotalNs: 5e7, Count: 480, Share: 0.625, PerDecodeStep: 10}}
	r := Compare(base, head, Options{})
	for _, n := range []string{"kernel_set.added", "kernel_set.removed", "kernel_set.variants"} {
		if m := metric(t, r, n); m.Verdict != Info {
			t.Errorf("%s: %s, want info", n, m.Verdict)
		}
	}
	if r.Verdict != Pass || len(r.Kernels.Added)+len(r.Kernels.Removed)+len(r.Kernels.Variant) == 0 {
		t.Errorf("verdict %s, kernel diff %+v", r.Verdict, r.Kernels)
	}
}

// Two runs of the same code pass, with nothing to report either way.
func TestSameCodeHasNoFindings(t *testing.T) {
	for _, head := range []string{"base_b", "vllm_real"} {
		r := compareFixtures(t, "base_a", head)
		if r.Verdict != Pass || len(r.Regressions)+len(r.Improvements) != 0 {
			t.Errorf("base_a vs %s: %s, regressions %v, improvements %v", head, r.Verdict, r.Regressions, r.Improvements)
		}
	}
}

// Launches outside CUDA graphs are judged only against a base that ran work
// inside graphs; for an eager base they are every launch of the run (a
// whole-run form of kernels per step) and are shown, never gated.
func TestOutsideGraphsNeedsAGraphedBase(t *testing.T) {
	eager := func(outside int64) parse.Graphs {
		return parse.Graphs{KernelsOutside: outside}
	}
	for _, tc := range []struct {
		name       string
		base, head parse.Graphs
		want       Verdict
		improved   bool
	}{
		// Hugging Face eager generate: 102,557 -> 116,477 launches, +13.6%.
		{"eager base, more launches", eager(102557), eager(116477), Info, false},
		{"eager base, fewer launches", eager(116477), eager(102557), Info, false},
		{"eager base, head adopts graphs", eager(1000), parse.Graphs{KernelsInGraphs: 990, KernelsOutside: 10}, Info, false},
		{"graphed base, launches leave the graphs", parse.Graphs{KernelsInGraphs: 1000}, parse.Graphs{KernelsInGraphs: 985, KernelsOutside: 15}, Fail, false},
		{"graphed base, head goes eager", parse.Graphs{KernelsInGraphs: 900, KernelsOutside: 100}, eager(1000), Fail, false},
		{"base with replays only (graph trace mode), more launches outside", parse.Graphs{Replays: 96, KernelsOutside: 100}, parse.Graphs{Replays: 96, KernelsOutside: 120}, Fail, false},
		{"graphed base, fewer launches outside", parse.Graphs{KernelsInGraphs: 900, KernelsOutside: 100}, parse.Graphs{KernelsInGraphs: 990, KernelsOutside: 10}, Pass, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := summary(spans(20, 1_000_000, 100)...)
			head := summary(spans(20, 1_000_000, 100)...)
			base.CUDAGraphs, head.CUDAGraphs = tc.base, tc.head
			r := Compare(base, head, Options{})
			m := metric(t, r, "cuda_graphs.outside")
			if m.Verdict != tc.want || m.Improved != tc.improved {
				t.Errorf("%s improved=%v (base %g head %g, note %q), want %s improved=%v", m.Verdict, m.Improved, m.Base, m.Head, m.Note, tc.want, tc.improved)
			}
			if tc.want == Info && !strings.Contains(m.Note, "no work inside CUDA graphs") {
				t.Errorf("note %q does not say why it is not gated", m.Note)
			}
			if tc.want == Info && r.Verdict != Pass {
				t.Errorf("run verdict %s, want pass: nothing else changed", r.Verdict)
			}
		})
	}
}
