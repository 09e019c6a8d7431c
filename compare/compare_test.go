package compare

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// summary builds a small node-traced H200 summary whose decode steps have
// the given spans (ns); busy and kernel time equal the span, 10 kernels a step.
func summary(decode ...int64) *parse.Summary {
	s := &parse.Summary{
		Schema: parse.SummarySchema,
		Source: parse.Source{File: "t.sqlite", NsysVersion: "2025.3.1", TraceMode: parse.TraceNode, Scope: "benchmark"},
		GPU:    parse.GPU{Name: "NVIDIA H200", Devices: 1},
		Phases: map[string]*parse.Phase{},
	}
	if len(decode) > 0 {
		p := &parse.Phase{Steps: len(decode)}
		for i, d := range decode {
			p.Samples = append(p.Samples, parse.Step{Name: "decode", StartNs: int64(i) * 1e7, SpanNs: d, BusyNs: d, KernelNs: d, Kernels: 10})
		}
		s.Phases[parse.PhaseDecode] = p
	}
	return s
}

func spans(n int, base int64, jitter int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = base + int64(i%7)*jitter
	}
	return out
}

func metric(t *testing.T, r *Result, name string) Metric {
	t.Helper()
	for _, m := range r.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no metric %s in %d metrics", name, len(r.Metrics))
	return Metric{}
}

func TestStatNeedsSignificanceAndThreshold(t *testing.T) {
	base := summary(spans(48, 1_000_000, 1000)...)
	tests := []struct {
		name string
		head []int64
		want Verdict
	}{
		{"same", spans(48, 1_000_000, 1000), Pass},
		{"significant but small (+3%)", spans(48, 1_030_000, 1000), Pass},
		{"significant, beyond warn (+7%)", spans(48, 1_070_000, 1000), Warn},
		{"significant, beyond fail (+20%)", spans(48, 1_200_000, 1000), Fail},
		{"faster", spans(48, 800_000, 1000), Pass},
	}
	for _, tt := range tests {
		r := Compare(base, summary(tt.head...), Options{})
		m := metric(t, r, "phases.decode.span.p50")
		if m.Verdict != tt.want {
			t.Errorf("%s: verdict %s (Δ %.2f%%, p=%g, note %q), want %s", tt.name, m.Verdict, m.DeltaPct, m.P, m.Note, tt.want)
		}
		if m.NBase != 48 || m.NHead != 48 || m.CI == nil || m.CI.Confidence < 0.95 {
			t.Errorf("%s: n %d/%d CI %+v", tt.name, m.NBase, m.NHead, m.CI)
		}
		if m.CI != nil && (m.DeltaPct < m.CI.Lo || m.DeltaPct > m.CI.Hi) {
			t.Errorf("%s: Δ %.2f%% outside its CI [%.2f, %.2f]", tt.name, m.DeltaPct, m.CI.Lo, m.CI.Hi)
		}
	}
}

// A large change that is not significant (overlapping, very noisy samples)
// does not fail.
func TestStatNotSignificantPasses(t *testing.T) {
	b := []int64{100, 400, 100, 400, 100, 400, 100, 400}
	h := []int64{400, 100, 400, 100, 400, 100, 400, 130}
	for i := range b {
		b[i] *= 1000
		h[i] *= 1000
	}
	r := Compare(summary(b...), summary(h...), Options{})
	m := metric(t, r, "phases.decode.span.p50")
	if m.Verdict != Pass || m.P < alpha || !strings.Contains(m.Note, "not significant") {
		t.Errorf("verdict %s p=%g note %q; want pass, not significant", m.Verdict, m.P, m.Note)
	}
}

// Two prefill steps: the U test cannot reach significance. A big change
// warns with a note; it never fails or passes silently.
func TestTooFewSamplesWarnsNeverFails(t *testing.T) {
	r := Compare(summary(1_000_000, 1_010_000), summary(2_000_000, 2_020_000), Options{})
	m := metric(t, r, "phases.decode.span.p50")
	if m.Verdict != Warn || !strings.Contains(m.Note, "too few samples (2 vs 2)") {
		t.Errorf("verdict %s note %q, want warn with a too-few-samples note", m.Verdict, m.Note)
	}
	if m.CI != nil {
		t.Errorf("CI %+v from two samples", m.CI)
	}
	r = Compare(summary(1_000_000, 1_010_000), summary(1_000_000, 1_010_000), Options{})
	m = metric(t, r, "phases.decode.span.p50")
	if m.Verdict != Pass || !strings.Contains(m.Note, "too few samples") {
		t.Errorf("unchanged: verdict %s note %q, want pass with a note", m.Verdict, m.Note)
	}
}

func TestExactMetricsFailOnSmallChanges(t *testing.T) {
	base := summary(spans(20, 1_000_000, 100)...)
	head := summary(spans(20, 1_000_000, 100)...)
	// One more kernel in every step: 10 -> 11 (+10%).
	for i := range head.Phases["decode"].Samples {
		head.Phases["decode"].Samples[i].Kernels = 11
	}
	// A device-to-host copy every other step.
	for i := 0; i < 20; i += 2 {
		head.Phases["decode"].Samples[i].DtoH = 1
	}
	// 15 of 1,000 launches left the CUDA graphs.
	base.CUDAGraphs = parse.Graphs{KernelsInGraphs: 1000, CoverageCount: 100}
	head.CUDAGraphs = parse.Graphs{KernelsInGraphs: 985, KernelsOutside: 15, CoverageCount: 98.5}
	r := Compare(base, head, Options{})
	for _, n := range []string{"phases.decode.kernels", "phases.decode.dtoh", "cuda_graphs.outside"} {
		if m := metric(t, r, n); m.Verdict != Fail {
			t.Errorf("%s: %s (base %g head %g), want fail", n, m.Verdict, m.Base, m.Head)
		}
	}
	// Coverage by launches is a share: it explains the launches that left
	// the graphs, beside their failure.
	if m := metric(t, r, "cuda_graphs.coverage_count"); m.Verdict != Warn || !strings.Contains(m.Note, "kernel launches outside CUDA graphs") {
		t.Errorf("coverage_count: %s %q, want a warning beside the launches outside graphs", m.Verdict, m.Note)
	}
	if r.Verdict != Fail || r.Counts.Fail != 3 {
		t.Errorf("verdict %s counts %+v", r.Verdict, r.Counts)
	}
}

// Floors are in the metric's own unit: one copy in one step of twenty (0.05
// per step) or a byte more per step costs nobody anything.
func TestExactFloorsInOwnUnit(t *testing.T) {
	base := summary(spans(20, 1_000_000, 100)...)
	head := summary(spans(20, 1_000_000, 100)...)
	for i := range base.Phases["decode"].Samples {
		base.Phases["decode"].Samples[i].MemcpyBytes = 1
		head.Phases["decode"].Samples[i].MemcpyBytes = 2
	}
	head.Phases["decode"].Samples[3].DtoH = 1
	head.Phases["decode"].Samples[3].Syncs = 1
	head.Phases["decode"].Samples[3].Memcpys = 1
	r := Compare(base, head, Options{})
	for _, n := range []string{"phases.decode.memcpy_bytes", "phases.decode.dtoh", "phases.decode.syncs", "phases.decode.memcpys"} {
		if m := metric(t, r, n); m.Verdict != Pass || !strings.Contains(m.Note, "below the floor") {
			t.Errorf("%s: %s (base %g head %g, note %q), want pass below the floor", n, m.Verdict, m.Base, m.Head, m.Note)
		}
	}
	if r.Verdict != Pass {
		t.Errorf("verdict %s: %v", r.Verdict, failing(r))
	}
	// 20 kB more per step is past the 16 kB floor.
	for i := range head.Phases["decode"].Samples {
		head.Phases["decode"].Samples[i].MemcpyBytes = 20_001
	}
	if m := metric(t, Compare(base, head, Options{}), "phases.decode.memcpy_bytes"); m.Verdict != Fail {
		t.Errorf("20 kB more per step: %s", m.Verdict)
	}
}

func TestUserRuleOverridesAndIgnores(t *testing.T) {
	base := summary(spans(48, 1_000_000, 1000)...)
	head := summary(spans(48, 1_070_000, 1000)...)
	r := Compare(base, head, Options{Rules: []Rule{{Metric: "phases.decode.span.p50", Fail: "5%"}}})
	if m := metric(t, r, "phases.decode.span.p50"); m.Verdict != Fail || m.Rule != "phases.decode.span.p50" || m.Threshold != "fail 5%" {
		t.Errorf("user rule: %+v", m)
	}
	r = Compare(base, head, Options{Rules: []Rule{{Metric: "phases.**", Ignore: true}}})
	for _, m := range r.Metrics {
		if strings.HasPrefix(m.Name, "phases.") {
			t.Errorf("ignored metric %s still listed", m.Name)
		}
	}
	// A threshold in the wrong unit is refused: the rule is skipped with a
	// warning, and the default rule judges the metric.
	r = Compare(base, head, Options{Rules: []Rule{{Metric: "phases.decode.span.p50", Warn: "1MB"}}})
	if m := metric(t, r, "phases.decode.span.p50"); m.Rule != "phases.*.span.p50" || m.Verdict != Warn {
		t.Errorf("unit mismatch: %+v", m)
	}
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "rules[0].warn") || !strings.Contains(r.Warnings[0], "cannot measure") {
		t.Errorf("unit mismatch not in Result.Warnings: %q", r.Warnings)
	}
	r = Compare(base, head, Options{Rules: []Rule{{Metric: "x", Warn: "bogus"}}})
	if len(r.Warnings) == 0 || !strings.HasPrefix(r.Warnings[0], "rules[0].warn:") {
		t.Errorf("invalid rule not reported: %q", r.Warnings)
	}
}

func TestFloorMakesSmallChangesNoise(t *testing.T) {
	base := summary(spans(48, 10_000, 10)...)
	head := summary(spans(48, 11_500, 10)...) // +15%, but 1.5us: below the 2us floor
	r := Compare(base, head, Options{})
	if m := metric(t, r, "phases.decode.span.p50"); m.Verdict != Pass || !strings.Contains(m.Note, "floor") {
		t.Errorf("%+v, want pass below the floor", m)
	}
}

func TestComparability(t *testing.T) {
	mut := []struct {
		name string
		f    func(s *parse.Summary)
		want string
	}{
		{"gpu", func(s *parse.Summary) { s.GPU.Name = "NVIDIA H100 80GB HBM3" }, "GPU model"},
		{"devices", func(s *parse.Summary) { s.GPU.Devices = 2 }, "device count"},
		{"trace", func(s *parse.Summary) { s.Source.TraceMode = parse.TraceGraph }, "trace mode"},
		{"nsys", func(s *parse.Summary) { s.Source.NsysVersion = "2026.2.1" }, "major version"},
		{"scope", func(s *parse.Summary) { s.Source.Scope = "" }, "scope"},
		{"steps inferred", func(s *parse.Summary) { s.Source.StepSource = parse.StepsGraph }, "steps found differently: base by NVTX step ranges, head by inference from CUDA-graph launches"},
	}
	for _, m := range mut {
		head := summary(spans(10, 1e6, 1)...)
		m.f(head)
		r := Compare(summary(spans(10, 1e6, 1)...), head, Options{})
		if r.Verdict != NotComparable || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], m.want) {
			t.Errorf("%s: verdict %s reasons %q", m.name, r.Verdict, r.Reasons)
		}
	}
	head := summary(spans(10, 1e6, 1)...)
	head.Source.StepSource = parse.StepsNVTX // as base, which predates StepSource
	if r := Compare(summary(spans(10, 1e6, 1)...), head, Options{}); r.Verdict != Pass || len(r.Warnings) != 0 {
		t.Errorf("NVTX steps against a summary that predates step_source: %s %q %q", r.Verdict, r.Reasons, r.Warnings)
	}
	head = summary(spans(10, 1e6, 1)...)
	head.Source.NsysVersion = "2025.5.2"
	if r := Compare(summary(spans(10, 1e6, 1)...), head, Options{}); r.Verdict != Pass {
		t.Errorf("minor nsys version change: %s %q", r.Verdict, r.Reasons)
	}
}

func TestNoBaseline(t *testing.T) {
	r := Compare(nil, summary(1, 2, 3), Options{ConfigID: "x"})
	if r.Verdict != NoBaseline || len(r.Reasons) == 0 || r.ConfigID != "x" {
		t.Fatalf("%+v", r)
	}
	if len(r.Metrics) == 0 || r.Counts.Info != len(r.Metrics) {
		t.Errorf("head metrics should be listed as info: counts %+v of %d", r.Counts, len(r.Metrics))
	}
	if len(r.Rules) != len(defaultRules) {
		t.Errorf("rules %d, want the %d defaults", len(r.Rules), len(defaultRules))
	}
}

func TestWarningsCopiedFromBothSides(t *testing.T) {
	b, h := summary(1, 2, 3, 4), summary(1, 2, 3, 4)
	b.Warnings = []parse.Warning{{Code: "no_scope", Message: "b"}}
	h.Warnings = []parse.Warning{{Code: "overlap", Message: "h"}}
	r := Compare(b, h, Options{})
	if len(r.Base.Warnings) != 1 || r.Base.Warnings[0].Code != "no_scope" || len(r.Head.Warnings) != 1 || r.Head.Warnings[0].Code != "overlap" {
		t.Errorf("warnings not copied: %+v %+v", r.Base.Warnings, r.Head.Warnings)
	}
}

func TestExtraMetrics(t *testing.T) {
	b, h := summary(1, 2, 3, 4), summary(1, 2, 3, 4)
	b.Extra = []parse.ExtraMetric{{Name: "output.tokens/s", Unit: "tokens/s", Better: "higher", Value: 1000}}
	h.Extra = []parse.ExtraMetric{{Name: "output.tokens/s", Unit: "tokens/s", Better: "higher", Value: 850}}
	r := Compare(b, h, Options{})
	m := metric(t, r, "extra."+Segment("output.tokens/s"))
	if m.Verdict != Fail || m.Better != "higher" || m.Unit != "tokens/s" {
		t.Errorf("%+v, want a failing higher-is-better tokens/s", m)
	}
}

func TestDescriptiveExtraMetricsAreNotGated(t *testing.T) {
	b, h := summary(1, 2, 3, 4), summary(1, 2, 3, 4)
	b.Extra = []parse.ExtraMetric{{Name: "vllm.kv_cache_usage_pct", Unit: "pct", Value: 40}}
	h.Extra = []parse.ExtraMetric{{Name: "vllm.kv_cache_usage_pct", Unit: "pct", Value: 90}}
	r := Compare(b, h, Options{})
	m := metric(t, r, "extra."+Segment("vllm.kv_cache_usage_pct"))
	if m.Verdict != Info || m.Better != "" || r.Verdict != Pass {
		t.Errorf("%+v (verdict %s), want an informational metric and a pass", m, r.Verdict)
	}
}

func TestLegacyBaselineComparesValues(t *testing.T) {
	legacy := `{"prefill_decode": {"decode": {"count": 96, "p50_ms": 1.0, "mean_ms": 1.0}},
		"cuda_graphs": {"coverage_pct": 93.4},
		"top_kernels": [{"name": "k", "count": 960, "total_ms": 50, "pct": 50}]}`
	base, err := parse.DecodeSummary(strings.NewReader(legacy))
	if err != nil {
		t.Fatal(err)
	}
	head := summary(spans(96, 1_300_000, 100)...)
	head.CUDAGraphs.CoverageCount = 93.4
	head.Kernels = []parse.Kernel{{Name: "k", Count: 960, TotalNs: 50e6, Share: 0.5, PerDecodeStep: 10}}
	r := Compare(base, head, Options{})
	if r.Verdict == NotComparable {
		t.Fatalf("legacy baseline not comparable: %q", r.Reasons)
	}
	m := metric(t, r, "phases.decode.span.p50")
	if m.Verdict != Fail || !strings.Contains(m.Note, "no per-step samples on base") || m.NBase != 0 {
		t.Errorf("legacy span: %+v", m)
	}
	// What the legacy file lacks is not read as zero.
	for _, n := range []string{"phases.decode.kernels", "phases.decode.dtoh", "kernels.k.per_step"} {
		if m := metric(t, r, n); m.HasBase || m.Verdict != Info {
			t.Errorf("%s: has base %v verdict %s; legacy lacks it", n, m.HasBase, m.Verdict)
		}
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "legacy") {
		t.Errorf("no legacy warning: %q", r.Warnings)
	}
}

func TestCompareIsDeterministic(t *testing.T) {
	base, head := fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_double_attn")
	first, err := json.Marshal(Compare(base, head, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, _ := json.Marshal(Compare(base, head, Options{}))
		if !reflect.DeepEqual(first, again) {
			t.Fatal("two comparisons of the same summaries differ")
		}
	}
	r := Compare(base, head, Options{})
	for i := 1; i < len(r.Metrics); i++ {
		a, b := r.Metrics[i-1], r.Metrics[i]
		if !lessMetric(a.Group, a.Name, b.Group, b.Name) {
			t.Errorf("metrics out of order: %s (%s) before %s (%s)", a.Name, a.Group, b.Name, b.Group)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	base, head := fixtureSummary(b, "base_a"), fixtureSummary(b, "regress_double_attn")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Compare(base, head, Options{})
	}
}

// A summary with 10,000 distinct kernel names (the render budget case) still
// compares quickly: rules are matched per metric, not per kernel pair.
func BenchmarkCompareManyKernels(b *testing.B) {
	mk := func(scale int64) *parse.Summary {
		s := summary(spans(96, 1_000_000, 1000)...)
		for i := 0; i < 10000; i++ {
			name := "kernel_" + strings.Repeat("x", i%7) + "_" + strconv.Itoa(i)
			s.Kernels = append(s.Kernels, parse.Kernel{Name: name, Component: "other", Count: 96, TotalNs: scale * int64(1000+i), Share: 1.0 / 10000, PerDecodeStep: 1})
		}
		return s
	}
	base, head := mk(1), mk(2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Compare(base, head, Options{})
	}
}

func TestStepCountChangeIsWarned(t *testing.T) {
	r := Compare(summary(spans(96, 1e6, 10)...), summary(spans(48, 1e6, 10)...), Options{})
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "decode step count differs: base 96, head 48") {
		t.Errorf("warnings %q", r.Warnings)
	}
	r = Compare(summary(spans(96, 1e6, 10)...), summary(), Options{})
	if r.Verdict != NotComparable || len(r.Reasons) == 0 || !strings.HasPrefix(r.Reasons[0], "head has no decode steps (base: 96)") {
		t.Errorf("verdict %s, reasons %q", r.Verdict, r.Reasons)
	}
}

func TestNonFiniteValuesAreSkipped(t *testing.T) {
	b, h := summary(1, 2, 3, 4), summary(1, 2, 3, 4)
	h.GPUTime = parse.GPUTime{WindowNs: 10, BusyPct: math.NaN()}
	b.GPUTime = parse.GPUTime{WindowNs: 10, BusyPct: 50}
	h.Kernels = []parse.Kernel{{Name: "k", Share: math.Inf(1), TotalNs: 5}}
	r := Compare(b, h, Options{})
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("result with non-finite inputs does not encode: %v", err)
	}
	if m := metric(t, r, "gpu_time.busy_pct"); m.HasHead || m.Verdict != Info {
		t.Errorf("NaN busy share judged: %+v", m)
	}
}
