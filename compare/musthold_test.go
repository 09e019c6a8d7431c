package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// The must-holds, on the real H200 fixtures.

// metricVerdicts indexes a result's metrics by name.
func metricVerdicts(r *Result) map[string]Metric {
	out := map[string]Metric{}
	for _, m := range r.Metrics {
		out[m.Name] = m
	}
	return out
}

// failing lists the names of failed metrics.
func failing(r *Result) []string {
	var out []string
	for _, m := range r.Metrics {
		if m.Verdict == Fail {
			out = append(out, m.Name)
		}
	}
	return out
}

func compareFixtures(t *testing.T, base, head string) *Result {
	t.Helper()
	r := Compare(fixtureSummary(t, base), fixtureSummary(t, head), Options{})
	dumpResult(t, r)
	return r
}

func TestBaseAVsBaseBPasses(t *testing.T) {
	r := compareFixtures(t, "base_a", "base_b")
	if r.Verdict == Fail || r.Verdict == NotComparable || r.Verdict == NoBaseline {
		t.Fatalf("verdict %s, failing %v, reasons %v", r.Verdict, failing(r), r.Reasons)
	}
	if r.Counts.Fail != 0 {
		t.Errorf("failing metrics: %v", failing(r))
	}
}

// requireFail checks that each named metric failed; a name ending in "*"
// is a prefix that must match at least one failed metric.
func requireFail(t *testing.T, r *Result, names ...string) {
	t.Helper()
	ms := metricVerdicts(r)
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			found := false
			for _, m := range r.Metrics {
				if strings.HasPrefix(m.Name, p) && m.Verdict == Fail {
					found = true
				}
			}
			if !found {
				t.Errorf("no failed metric %s; failing: %v", n, failing(r))
			}
			continue
		}
		m, ok := ms[n]
		if !ok {
			t.Errorf("metric %s missing", n)
			continue
		}
		if m.Verdict != Fail {
			t.Errorf("%s: verdict %s (base %g head %g, Δ %.2f%%, p=%.3g, note %q), want fail", n, m.Verdict, m.Base, m.Head, m.DeltaPct, m.P, m.Note)
		}
	}
}

// requireVerdict checks that each named metric has verdict v.
func requireVerdict(t *testing.T, r *Result, v Verdict, names ...string) {
	t.Helper()
	ms := metricVerdicts(r)
	for _, n := range names {
		m, ok := ms[n]
		if !ok {
			t.Errorf("metric %s missing", n)
			continue
		}
		if m.Verdict != v {
			t.Errorf("%s: verdict %s (base %g head %g, Δ %.2f%%, note %q), want %s", n, m.Verdict, m.Base, m.Head, m.DeltaPct, m.Note, v)
		}
	}
}

func TestDoubleAttentionFailsOnDecodeTimeAndAttention(t *testing.T) {
	r := compareFixtures(t, "base_a", "regress_double_attn")
	if r.Verdict != Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	requireFail(t, r, "phases.decode.span.p50", "phases.decode.kernel_time.p50", "phases.decode.kernels", "components.decode.attention.time")
	// The attention share rose with attention's time: it explains, beside
	// the failure, and never fails itself.
	requireVerdict(t, r, Warn, "components.decode.attention.share")
	// The attention kernel itself: cuDNN's SDPA kernel, twice per layer now.
	attn, most := "", int64(0)
	for _, k := range fixtureSummary(t, "base_a").Kernels {
		if k.Component == "attention" && k.TotalNs > most {
			attn, most = k.Name, k.TotalNs
		}
	}
	if attn == "" {
		t.Fatal("no attention kernel in base_a")
	}
	requireFail(t, r, "kernels."+Segment(attn)+".total", "kernels."+Segment(attn)+".per_step")
	// Prefill is unchanged by this regression.
	for _, m := range r.Metrics {
		if strings.HasPrefix(m.Name, "phases.prefill.") && m.Verdict == Fail {
			t.Errorf("prefill metric %s failed: %+v", m.Name, m)
		}
	}
	// Significant, with an interval that excludes zero and holds the ~23% change.
	m := metricVerdicts(r)["phases.decode.span.p50"]
	if m.CI == nil || m.CI.Lo <= 10 || m.CI.Hi >= 40 || m.P >= alpha || m.CI.Confidence < 0.95 {
		t.Errorf("decode span: p=%g CI=%+v, want significant with a CI around +23%%", m.P, m.CI)
	}
}

func TestNoGraphsFailsOnCoverageAndDecodeTime(t *testing.T) {
	r := compareFixtures(t, "base_a", "regress_no_graphs")
	if r.Verdict != Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	requireFail(t, r, "cuda_graphs.outside", "phases.decode.span.p50")
	requireVerdict(t, r, Warn, "cuda_graphs.coverage_count", "cuda_graphs.coverage_time", "phases.decode.busy_pct.p50")
	// Kernel time is about the same: the regression is launch overhead.
	if m := metricVerdicts(r)["phases.decode.kernel_time.p50"]; m.Verdict == Fail {
		t.Errorf("decode kernel time failed (%+.1f%%); the fixture keeps kernel time", m.DeltaPct)
	}
}

func TestHostSyncFailsOnCopiesAndBusyShare(t *testing.T) {
	r := compareFixtures(t, "base_a", "regress_host_sync")
	if r.Verdict != Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	requireFail(t, r, "phases.decode.dtoh", "phases.decode.memcpys", "phases.decode.syncs", "phases.decode.span.p50")
	requireVerdict(t, r, Warn, "phases.decode.busy_pct.p50")
	// 125 more bytes copied per step is below the 16 kB floor: the copy
	// and the sync it causes are what fail.
	requireVerdict(t, r, Pass, "phases.decode.memcpy_bytes")
	ms := metricVerdicts(r)
	for _, n := range []string{"phases.decode.kernel_time.p50", "phases.decode.kernels"} {
		if ms[n].Verdict != Pass {
			t.Errorf("%s: %s (Δ %.2f%%), want pass: the same kernels run", n, ms[n].Verdict, ms[n].DeltaPct)
		}
	}
	if n := len(r.Kernels.Added) + len(r.Kernels.Removed); n != 0 {
		t.Errorf("kernel set changed: %+v", r.Kernels)
	}
}

func TestGraphModeIsNotComparable(t *testing.T) {
	r := compareFixtures(t, "base_a", "base_graphmode")
	if r.Verdict != NotComparable {
		t.Fatalf("verdict %s, want not_comparable", r.Verdict)
	}
	if len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], "trace mode") {
		t.Errorf("reasons %q, want the trace mode named", r.Reasons)
	}
	if r.Counts.Fail+r.Counts.Warn+r.Counts.Pass != 0 {
		t.Errorf("counts %+v: nothing may be gated when not comparable", r.Counts)
	}
}

func TestVLLMNamesLineUpWithBase(t *testing.T) {
	r := compareFixtures(t, "base_a", "vllm_real")
	if r.Verdict == Fail || r.Verdict == NotComparable {
		t.Fatalf("verdict %s (failing %v, reasons %v)", r.Verdict, failing(r), r.Reasons)
	}
	ms := metricVerdicts(r)
	for _, n := range []string{"phases.prefill.steps", "phases.decode.steps", "phases.decode.span.p50", "phases.prefill.span.p50"} {
		m, ok := ms[n]
		if !ok || !m.HasBase || !m.HasHead {
			t.Errorf("%s not on both sides: %+v", n, m)
		}
	}
	if ms["phases.decode.steps"].Base != ms["phases.decode.steps"].Head {
		t.Errorf("decode steps %g vs %g", ms["phases.decode.steps"].Base, ms["phases.decode.steps"].Head)
	}
}

// With the scope set to the measured range (as a gate.yml would), the
// verdicts hold too, and the window-level busy share warns beside them.
func TestMustHoldsWithScope(t *testing.T) {
	cmp := func(head string) *Result {
		r := Compare(fixtureSummaryScoped(t, "base_a", "benchmark"), fixtureSummaryScoped(t, head, "benchmark"), Options{})
		dumpResult(t, r)
		return r
	}
	for _, head := range []string{"base_b", "vllm_real"} {
		if r := cmp(head); r.Verdict != Pass && r.Verdict != Warn {
			t.Errorf("%s: %s, failing %v, reasons %v", head, r.Verdict, failing(r), r.Reasons)
		}
	}
	requireFail(t, cmp("regress_double_attn"), "phases.decode.span.p50", "components.decode.attention.time")
	r := cmp("regress_no_graphs")
	requireFail(t, r, "cuda_graphs.outside", "phases.decode.span.p50")
	requireVerdict(t, r, Warn, "cuda_graphs.coverage_count", "gpu_time.busy_pct")
	r = cmp("regress_host_sync")
	requireFail(t, r, "phases.decode.dtoh", "phases.decode.span.p50")
	requireVerdict(t, r, Warn, "phases.decode.busy_pct.p50", "gpu_time.busy_pct")
	if r := cmp("base_graphmode"); r.Verdict != NotComparable {
		t.Errorf("graph mode: %s", r.Verdict)
	}
}

// Same code, either direction: never a fail.
func TestSameCodeEitherDirectionDoesNotFail(t *testing.T) {
	for _, pair := range [][2]string{{"base_b", "base_a"}, {"vllm_real", "base_a"}, {"base_b", "vllm_real"}, {"vllm_real", "base_b"}} {
		r := compareFixtures(t, pair[0], pair[1])
		if r.Verdict == Fail || r.Verdict == NotComparable {
			t.Errorf("%s vs %s: %s, failing %v", pair[0], pair[1], r.Verdict, failing(r))
		}
	}
}

// A baseline stored in the seed's older summary.json layout still gates a
// fresh export: same code passes, double attention fails on decode time.
func TestLegacyBaselineGatesExports(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "legacy", "base_a.summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := parse.DecodeSummary(f)
	if err != nil {
		t.Fatal(err)
	}
	r := Compare(base, fixtureSummary(t, "base_b"), Options{})
	dumpResult(t, r)
	if r.Verdict == Fail || r.Verdict == NotComparable {
		t.Errorf("legacy base_a vs base_b: %s, failing %v, reasons %v", r.Verdict, failing(r), r.Reasons)
	}
	if m := metricVerdicts(r)["phases.decode.span.p50"]; !m.HasBase || !strings.Contains(m.Note, "no per-step samples") {
		t.Errorf("decode span vs legacy: %+v", m)
	}
	r = Compare(base, fixtureSummary(t, "regress_double_attn"), Options{})
	dumpResult(t, r)
	requireFail(t, r, "phases.decode.span.p50", "components.window.attention.time")
}
