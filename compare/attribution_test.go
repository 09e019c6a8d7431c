package compare

import (
	"math"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// meanKernelNs is the measured kernel time per step: the mean of the
// steps' samples.
func meanKernelNs(p *parse.Phase) float64 {
	sum := 0.0
	for _, x := range p.Samples {
		sum += float64(x.KernelNs)
	}
	return sum / float64(len(p.Samples))
}

// decodeAttribution is r's attribution of the decode phase; the test
// fails without one.
func decodeAttribution(t *testing.T, r *Result) *PhaseAttribution {
	t.Helper()
	for i := range r.Attribution {
		if r.Attribution[i].Phase == parse.PhaseDecode {
			return &r.Attribution[i]
		}
	}
	t.Fatalf("no decode attribution: %+v", r.Attribution)
	return nil
}

func partsSum(ps []TimePart, rest *TimePart) (b, h float64) {
	for _, p := range ps {
		b, h = b+p.BaseNs, h+p.HeadNs
	}
	if rest != nil {
		b, h = b+rest.BaseNs, h+rest.HeadNs
	}
	return b, h
}

// The must-hold: base_a -> regress_double_attn puts the cuDNN SDPA
// kernel first, about +0.18 ms per decode step, and the table sums to the
// measured change of kernel time within 1%.
func TestWhereTheTimeWentDoubleAttention(t *testing.T) {
	base, head := fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_double_attn")
	r := Compare(base, head, Options{})
	a := decodeAttribution(t, r)
	for _, pa := range r.Attribution {
		if pa.Phase == parse.PhasePrefill {
			t.Errorf("prefill is unchanged, yet attributed: %+v", pa)
		}
	}
	first := a.Kernels[0]
	d := first.HeadNs - first.BaseNs
	if !strings.Contains(first.Name, "sdpa") || first.Component != "attention" || d < 0.16e6 || d > 0.20e6 {
		t.Errorf("first part %s (%s) %+.0f ns/step, want cuDNN SDPA attention about +0.18 ms", first.Name, first.Component, d)
	}
	if first.BaseLaunches != 8 || first.HeadLaunches != 16 {
		t.Errorf("SDPA launches/step %g -> %g, want 8 -> 16", first.BaseLaunches, first.HeadLaunches)
	}
	if len(a.Kernels) != topParts || a.Rest == nil || a.Rest.Count == 0 {
		t.Errorf("%d kernels and rest %+v, want the top %d and the rest", len(a.Kernels), a.Rest, topParts)
	}
	// The parts sum to the whole, and the whole is what the steps measured.
	measured := meanKernelNs(head.Phases["decode"]) - meanKernelNs(base.Phases["decode"])
	b, h := partsSum(a.Kernels, a.Rest)
	if math.Abs(b-a.BaseNs) > 1e-6*a.BaseNs || math.Abs(h-a.HeadNs) > 1e-6*a.HeadNs {
		t.Errorf("kernel parts sum to %g -> %g, attribution says %g -> %g", b, h, a.BaseNs, a.HeadNs)
	}
	if cb, ch := partsSum(a.Components, nil); math.Abs((ch-cb)-(h-b)) > 1e-6*math.Abs(h-b) {
		t.Errorf("components sum to %+g, kernels to %+g", ch-cb, h-b)
	}
	if got := h - b; math.Abs(got-measured) > 0.01*math.Abs(measured) {
		t.Errorf("parts sum to %+.0f ns/step, measured mean change %+.0f", got, measured)
	}
	// And to the reported change of the kernel time median, within 1%.
	if m := metricVerdicts(r)["phases.decode.kernel_time.p50"]; math.Abs((h-b)-m.Delta) > 0.01*math.Abs(m.Delta) {
		t.Errorf("parts sum to %+.0f ns/step, kernel_time p50 changed %+.0f", h-b, m.Delta)
	}
	if a.Components[0].Name != "attention" {
		t.Errorf("first component %q, want attention", a.Components[0].Name)
	}
}

// The fix says where the time went too, with the signs the other way; a
// pass of the same code attributes nothing.
func TestWhereTheTimeWentOnImprovementAndNoise(t *testing.T) {
	r := Compare(fixtureSummary(t, "regress_double_attn"), fixtureSummary(t, "base_a"), Options{})
	if len(r.Attribution) != 1 || r.Attribution[0].Phase != "decode" || r.Attribution[0].HeadNs >= r.Attribution[0].BaseNs {
		t.Fatalf("attribution of the fix: %+v", r.Attribution)
	}
	if k := r.Attribution[0].Kernels[0]; !strings.Contains(k.Name, "sdpa") || k.HeadNs >= k.BaseNs {
		t.Errorf("first part of the fix %+v", k)
	}
	if r := Compare(fixtureSummary(t, "base_a"), fixtureSummary(t, "base_b"), Options{}); len(r.Attribution) != 0 {
		t.Errorf("same code attributed: %+v", r.Attribution)
	}
}

// Summaries written before per-phase kernel totals existed still compare,
// without an attribution.
func TestNoAttributionWithoutPerPhaseKernels(t *testing.T) {
	base := summary(spans(48, 1_000_000, 1000)...)
	head := summary(spans(48, 1_200_000, 1000)...)
	r := Compare(base, head, Options{})
	if r.Verdict != Fail || len(r.Attribution) != 0 {
		t.Errorf("verdict %s attribution %+v", r.Verdict, r.Attribution)
	}
	base.Phases["decode"].ByKernel = []parse.PhaseKernel{{Name: "a", Component: "gemm", Launches: 480, TotalNs: 48e6}}
	head.Phases["decode"].ByKernel = []parse.PhaseKernel{{Name: "a", Component: "gemm", Launches: 480, TotalNs: 48e6}, {Name: "b", Component: "other", Launches: 48, TotalNs: 48 * 200_000}}
	r = Compare(base, head, Options{})
	if len(r.Attribution) != 1 || r.Attribution[0].Kernels[0].Name != "b" || r.Attribution[0].Kernels[0].HeadNs != 200_000 || r.Attribution[0].Rest != nil {
		t.Errorf("attribution %+v", r.Attribution)
	}
}

// TestAttributionComponentsAreTheTable: the components of where the time
// went are the phase's component tables, per step, exactly: on base_a ->
// regress_double_attn, whose vectorized_elementwise_kernel and
// elementwise_kernel have variants in several components (a kernel name
// labelled with one component put their time in the wrong ones), every
// component's base and head time per step is its table's time over the
// steps, and each kernel part is one component's.
func TestAttributionComponentsAreTheTable(t *testing.T) {
	base, head := fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_double_attn")
	a := decodeAttribution(t, Compare(base, head, Options{}))
	split := map[string]map[string]bool{}
	for _, k := range base.Phases[parse.PhaseDecode].ByKernel {
		if split[k.Name] == nil {
			split[k.Name] = map[string]bool{}
		}
		split[k.Name][k.Component] = true
	}
	if len(split["vectorized_elementwise_kernel"]) < 2 || len(split["elementwise_kernel"]) < 2 {
		t.Fatalf("the fixture no longer splits a kernel name over components: %v", split)
	}
	table := func(s *parse.Summary) map[string]float64 {
		out := map[string]float64{}
		for _, pc := range s.Components {
			if pc.Phase == parse.PhaseDecode {
				for _, c := range pc.Components {
					out[c.Name] = float64(c.TimeNs) / float64(s.Phases[parse.PhaseDecode].Steps)
				}
			}
		}
		return out
	}
	bt, ht := table(base), table(head)
	seen := map[string]bool{}
	for _, c := range a.Components {
		seen[c.Name] = true
		if c.BaseNs != bt[c.Name] || c.HeadNs != ht[c.Name] {
			t.Errorf("component %s: %.3f -> %.3f ns/step, the tables say %.3f -> %.3f", c.Name, c.BaseNs, c.HeadNs, bt[c.Name], ht[c.Name])
		}
	}
	for name := range bt {
		if !seen[name] {
			t.Errorf("component %s of base's table is not attributed", name)
		}
	}
	for name := range ht {
		if !seen[name] {
			t.Errorf("component %s of head's table is not attributed", name)
		}
	}
	byKernel := map[[2]string]bool{}
	for _, k := range head.Phases[parse.PhaseDecode].ByKernel {
		byKernel[[2]string{k.Name, k.Component}] = true
	}
	for _, k := range base.Phases[parse.PhaseDecode].ByKernel {
		byKernel[[2]string{k.Name, k.Component}] = true
	}
	for _, k := range a.Kernels {
		if !byKernel[[2]string{k.Name, k.Component}] {
			t.Errorf("kernel part %s (%s) is no part of parse's", k.Name, k.Component)
		}
	}
}
