package compare

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// batches builds a summary whose decode steps come in two batch sizes, 8
// and 16 requests, n8 and n16 of them, the size-8 steps 15% faster; spans
// jitter a little, as real ones do.
func batches(n8, n16 int) *parse.Summary {
	s := summary()
	p := &parse.Phase{Steps: n8 + n16}
	for i := range n8 + n16 {
		reqs, ns := 16, int64(1_200_000)
		if i < n8 {
			reqs, ns = 8, 1_020_000
		}
		ns += int64(i%7) * 500
		p.Samples = append(p.Samples, parse.Step{Name: "execute_context_0(0)_generation_x(x)", StartNs: int64(i) * 1e7,
			SpanNs: ns, BusyNs: ns, KernelNs: ns, Kernels: 10, Requests: reqs, Tokens: reqs})
	}
	p.Tokens, p.Requests = &parse.Stat{Mean: 12}, &parse.Stat{Mean: 12}
	s.Phases[parse.PhaseDecode] = p
	return s
}

// TestGroupByBatch: a head whose load ran more large batches, each batch
// size as fast as before, fails when decode steps are compared together and
// passes when each batch size is compared with its own.
func TestGroupByBatch(t *testing.T) {
	base, head := batches(70, 30), batches(30, 70)
	r := Compare(base, head, Options{})
	if m := metric(t, r, "phases.decode.span.p50"); r.Verdict != Fail || m.Verdict != Fail {
		t.Errorf("pooled: verdict %s, decode span %s: want fail (the mix moved the median)", r.Verdict, m.Verdict)
	}
	r = Compare(base, head, Options{GroupBy: GroupByBatch})
	if r.Verdict != Pass {
		t.Errorf("grouped: verdict %s, want pass", r.Verdict)
		for _, m := range r.Metrics {
			if m.Verdict == Fail || m.Verdict == Warn {
				t.Logf("%s %s %s", m.Name, m.Verdict, m.Note)
			}
		}
	}
	for _, name := range []string{"phases.decode@8.span.p50", "phases.decode@16.span.p50"} {
		m := metric(t, r, name)
		if m.Verdict != Pass || m.NBase == 0 || m.NHead == 0 {
			t.Errorf("%s: %s with %d and %d samples, want pass on its own samples", name, m.Verdict, m.NBase, m.NHead)
		}
	}
	for _, m := range r.Metrics {
		if m.Name == "phases.decode.span.p50" {
			t.Errorf("grouped: %s still compared pooled", m.Name)
		}
	}
	if m := metric(t, r, "phases.decode@8.steps"); m.Base != 70 || m.Head != 30 {
		t.Errorf("decode@8 steps %g -> %g, want 70 -> 30", m.Base, m.Head)
	}
	// Each group is gated: size 16 slower by 20% fails alone.
	slow := batches(30, 70)
	for i := range slow.Phases[parse.PhaseDecode].Samples {
		x := &slow.Phases[parse.PhaseDecode].Samples[i]
		if x.Requests == 16 {
			x.SpanNs, x.BusyNs, x.KernelNs = x.SpanNs*12/10, x.BusyNs*12/10, x.KernelNs*12/10
		}
	}
	r = Compare(base, slow, Options{GroupBy: GroupByBatch})
	if m := metric(t, r, "phases.decode@16.span.p50"); m.Verdict != Fail || metric(t, r, "phases.decode@8.span.p50").Verdict != Pass {
		t.Errorf("size 16 slower: decode@16 %s, decode@8 %s: want fail, pass", m.Verdict, metric(t, r, "phases.decode@8.span.p50").Verdict)
	}
}

// TestGroupsOnOneSide: a batch size only one side ran is shown and warned
// about, never judged; buckets pool sizes.
func TestGroupsOnOneSide(t *testing.T) {
	base, head := batches(40, 40), batches(0, 40)
	r := Compare(base, head, Options{GroupBy: GroupByBatch})
	if m := metric(t, r, "phases.decode@8.span.p50"); m.HasHead || m.Verdict != Info {
		t.Errorf("decode@8 only in base: %+v", m)
	}
	found := false
	for _, w := range r.Warnings {
		found = found || strings.Contains(w, "decode@8: only in base (40 steps)")
	}
	if !found || r.Verdict != Pass {
		t.Errorf("verdict %s, warnings %q: want pass and decode@8 named as only in base", r.Verdict, r.Warnings)
	}
	r = Compare(base, head, Options{GroupBy: GroupByBatch, BatchBuckets: []int{4, 16}})
	if m := metric(t, r, "phases.decode@5-16.span.p50"); m.NBase != 80 || m.NHead != 40 {
		t.Errorf("bucket 5-16: %d and %d samples, want 80 and 40", m.NBase, m.NHead)
	}
	unnamed := summary(spans(40, 1e6, 10)...)
	r = Compare(unnamed, unnamed, Options{GroupBy: GroupByBatch})
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "do not all name their batch size") {
		t.Errorf("steps without batch sizes: %q", r.Warnings)
	}
	metric(t, r, "phases.decode.span.p50")
}

func TestValidateGrouping(t *testing.T) {
	for _, c := range []struct {
		by      string
		buckets []int
		bad     bool
	}{
		{"", nil, false}, {"batch", nil, false}, {"batch", []int{1, 8, 64}, false},
		{"shape", nil, true}, {"", []int{8}, true}, {"batch", []int{8, 8}, true}, {"batch", []int{0}, true},
	} {
		if err := ValidateGrouping(c.by, c.buckets); (err != nil) != c.bad {
			t.Errorf("%q %v: %v", c.by, c.buckets, err)
		}
	}
}

// TestGraphModeChange: a decode phase that left its CUDA graph fails, named
// by its mode; one that entered a graph is an improvement.
func TestGraphModeChange(t *testing.T) {
	withMode := func(mode string, launches int) *parse.Summary {
		s := summary(spans(40, 1e6, 10)...)
		ph := s.Phases[parse.PhaseDecode]
		for i := range ph.Samples {
			ph.Samples[i].GraphLaunches = launches
			ph.Samples[i].GraphKernels = 9 * launches
		}
		ph.Graphs = &parse.PhaseGraphs{Mode: mode, CoverageCount: 90 * float64(launches)}
		return s
	}
	r := Compare(withMode(parse.GraphFull, 1), withMode(parse.GraphEager, 0), Options{})
	m := metric(t, r, "phases.decode.graph_mode")
	if m.Verdict != Fail || r.Verdict != Fail || !strings.Contains(m.Note, "CUDA-graph mode full graph → eager") {
		t.Errorf("full -> eager: %s (%s), verdict %s", m.Verdict, m.Note, r.Verdict)
	}
	if GraphModeLabel(m.Base) != "full graph" || GraphModeLabel(m.Head) != "eager" {
		t.Errorf("mode values %g -> %g", m.Base, m.Head)
	}
	if len(r.Regressions) == 0 || r.Regressions[0].Metric != "phases.decode.graph_mode" {
		t.Errorf("regressions %+v: want the mode first", r.Regressions)
	}
	if c := metric(t, r, "phases.decode.graph_coverage"); c.Verdict != Warn {
		t.Errorf("coverage 90%% -> 0%%: %s, want a warning beside the mode's failure", c.Verdict)
	}
	r = Compare(withMode(parse.GraphEager, 0), withMode(parse.GraphFull, 1), Options{})
	if m := metric(t, r, "phases.decode.graph_mode"); !m.Improved || r.Verdict != Pass {
		t.Errorf("eager -> full: improved %v, verdict %s", m.Improved, r.Verdict)
	}
	r = Compare(withMode(parse.GraphFull, 1), withMode(parse.GraphFull, 1), Options{})
	if m := metric(t, r, "phases.decode.graph_mode"); m.Verdict != Pass {
		t.Errorf("same mode: %s", m.Verdict)
	}
}

// TestPerToken: prefill time per token is a stat metric on the steps'
// samples; tokens and requests per step are shown.
func TestPerToken(t *testing.T) {
	mk := func(nsPerToken int64) *parse.Summary {
		s := summary(spans(40, 1e6, 10)...)
		p := &parse.Phase{Steps: 20, NsPerToken: &parse.Stat{}, Tokens: &parse.Stat{}, Requests: &parse.Stat{}, TokensPerS: 1e9 / float64(nsPerToken)}
		for i := range 20 {
			tokens := 4096 + 512*(i%3)
			span := int64(tokens)*nsPerToken + int64(i%5)*100
			p.Samples = append(p.Samples, parse.Step{SpanNs: span, BusyNs: span, KernelNs: span, Kernels: 100, Requests: 8, Tokens: tokens})
		}
		s.Phases[parse.PhasePrefill] = p
		return s
	}
	r := Compare(mk(2000), mk(2300), Options{})
	if m := metric(t, r, "phases.prefill.ns_per_token.p50"); m.Verdict != Fail || m.Base < 1990 || m.Base > 2010 || m.NBase != 20 {
		t.Errorf("ns/token 2000 -> 2300: %s base %g (%d samples)", m.Verdict, m.Base, m.NBase)
	}
	if m := metric(t, r, "phases.prefill.tokens"); m.Verdict != Info || m.Base != m.Head {
		t.Errorf("tokens/step: %+v", m)
	}
	if m := metric(t, r, "phases.prefill.tokens_per_s"); m.Verdict == Fail {
		t.Errorf("tokens/s is compositional: %s", m.Verdict)
	}
}
