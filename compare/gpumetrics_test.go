package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// Issue 16's must-holds on the H200 exports with GPU-metrics sampling.

// TestKVCacheFp32FailsOnDecodeTraffic: with the KV cache in fp32 the
// comparison fails, and names decode memory traffic: DRAM bytes written
// and read per decode step, explained as more traffic behind the slower
// step; the rates and shares explain, never fail.
func TestKVCacheFp32FailsOnDecodeTraffic(t *testing.T) {
	r := compareFixtures(t, "gm_base", "gm_kv_fp32")
	if r.Verdict != Fail {
		t.Fatalf("verdict %s (%v), want fail", r.Verdict, r.Reasons)
	}
	requireFail(t, r, "gpu_metrics.decode.dram_write_bytes.p50", "gpu_metrics.decode.dram_read_bytes.p50", "phases.decode.span.p50")
	found := false
	for _, f := range r.Regressions {
		if f.Metric == "gpu_metrics.decode.dram_write_bytes.p50" {
			found = f.Label == "decode DRAM write/step p50" && f.Class == ClassStepStructure
		}
	}
	if !found {
		t.Errorf("regressions %+v do not name decode DRAM writes per step", r.Regressions)
	}
	ms := metricVerdicts(r)
	if w := ms["gpu_metrics.decode.dram_write_bytes.p50"]; w.Head < 3*w.Base || w.P >= alpha {
		t.Errorf("decode DRAM write/step %.4g -> %.4g (p=%g): want >= 3x, significant", w.Base, w.Head, w.P)
	}
	for _, name := range []string{"gpu_metrics.decode.dram_read_pct.p50", "gpu_metrics.decode.dram_write_pct.p50", "gpu_metrics.decode.sm_active.p50"} {
		if m := ms[name]; m.Verdict == Fail || m.Improved || !m.HasBase || !m.HasHead {
			t.Errorf("%s: %s (improved %v, %q): a rate explains, never fails nor improves", name, m.Verdict, m.Improved, m.Note)
		}
	}
	if sm := ms["gpu_metrics.decode.sm_active.p50"]; sm.Base < 41 || sm.Base > 45 || sm.Head < 54 || sm.Head > 58 {
		t.Errorf("decode SMs active %.1f%% -> %.1f%%, want about 43 -> 56", sm.Base, sm.Head)
	}
	ps := samplingPhase(t, r, parse.PhaseDecode)
	if ps.Cause != CauseMoreTraffic || ps.Base.Bound != "memory" || ps.Head.Typical == nil {
		t.Errorf("decode sampling %+v (base %+v): want more traffic, memory-bound, a typical step", ps, ps.Base)
	}
	if pre := samplingPhase(t, r, parse.PhasePrefill); pre.Base.Bound != "compute" || pre.Cause != "" {
		t.Errorf("prefill sampling %+v: want compute-bound, no cause", pre)
	}
	if r.Sampling.BaseHz != 20000 || r.Sampling.HeadHz != 20000 {
		t.Errorf("sampling at %v / %v Hz", r.Sampling.BaseHz, r.Sampling.HeadHz)
	}
}

// TestGMBase1VsBase2Passes: two runs of the same code, with sampling at 10
// kHz, pass.
func TestGMBase1VsBase2Passes(t *testing.T) {
	for _, pair := range [][2]string{{"gm_base1", "gm_base2"}, {"gm_base2", "gm_base1"}} {
		r := compareFixtures(t, pair[0], pair[1])
		if r.Verdict != Pass {
			t.Errorf("%s vs %s: %s, failing %v, warnings %v", pair[0], pair[1], r.Verdict, failing(r), r.Regressions)
		}
		if ps := samplingPhase(t, r, parse.PhaseDecode); ps.Cause != "" {
			t.Errorf("%s vs %s: decode cause %q", pair[0], pair[1], ps.Cause)
		}
	}
}

func samplingPhase(t *testing.T, r *Result, phase string) PhaseSampling {
	t.Helper()
	if r.Sampling == nil {
		t.Fatal("no sampling in the result")
	}
	for _, p := range r.Sampling.Phases {
		if p.Phase == phase {
			return p
		}
	}
	t.Fatalf("no %s in %+v", phase, r.Sampling.Phases)
	return PhaseSampling{}
}

// copySummary is a deep copy of a fixture's summary, to edit.
func copySummary(t *testing.T, name string) *parse.Summary {
	t.Helper()
	var b bytes.Buffer
	if err := parse.EncodeSummary(&b, fixtureSummary(t, name)); err != nil {
		t.Fatal(err)
	}
	s, err := parse.DecodeSummary(&b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slowerDecode makes head's decode steps 30% longer and applies f to each
// sampled decode step.
func slowerDecode(t *testing.T, f func(*parse.StepGPUMetrics)) (*parse.Summary, *parse.Summary) {
	base, head := fixtureSummary(t, "gm_base1"), copySummary(t, "gm_base1")
	ph := head.Phases[parse.PhaseDecode]
	for i := range ph.Samples {
		ph.Samples[i].SpanNs = ph.Samples[i].SpanNs * 13 / 10
	}
	gm := head.GPUMetrics.Phase(parse.PhaseDecode)
	for i := range gm.Samples {
		f(&gm.Samples[i])
	}
	return base, head
}

// TestCauseSlowerBandwidth: a memory-bound decode step that moves the
// same bytes at three quarters of the bandwidth and takes longer says so.
func TestCauseSlowerBandwidth(t *testing.T) {
	base, head := slowerDecode(t, func(x *parse.StepGPUMetrics) {
		x.DRAMRead *= 0.75
		x.DRAMWrite *= 0.75
	})
	r := Compare(base, head, Options{})
	if ps := samplingPhase(t, r, parse.PhaseDecode); ps.Cause != CauseSlowerBandwidth {
		t.Errorf("cause %q, want %s", ps.Cause, CauseSlowerBandwidth)
	}
	if m := metricVerdicts(r)["gpu_metrics.decode.dram_read_pct.p50"]; m.Verdict != Warn || !strings.Contains(m.Note, "decode step p50") {
		t.Errorf("read bandwidth %s (%q): want a warning beside the decode step", m.Verdict, m.Note)
	}
	if m := metricVerdicts(r)["gpu_metrics.decode.dram_read_bytes.p50"]; m.Verdict != Pass {
		t.Errorf("read bytes %s: the same bytes", m.Verdict)
	}
}

// TestCauseGPUWaiting: a longer step whose SMs are active for less of it,
// the bytes unchanged, is the GPU waiting.
func TestCauseGPUWaiting(t *testing.T) {
	base, head := slowerDecode(t, func(x *parse.StepGPUMetrics) { x.SMActive -= 10 })
	r := Compare(base, head, Options{})
	if ps := samplingPhase(t, r, parse.PhaseDecode); ps.Cause != CauseGPUWaiting {
		t.Errorf("cause %q, want %s", ps.Cause, CauseGPUWaiting)
	}
}

// TestBlindWithoutGPUMetrics: a head without the samples its base has is
// not comparable, with nsys's refusal as the reason where the head
// recorded one.
func TestBlindWithoutGPUMetrics(t *testing.T) {
	head := copySummary(t, "gm_base2")
	head.GPUMetrics = nil
	r := Compare(fixtureSummary(t, "gm_base1"), head, Options{})
	if r.Verdict != NotComparable || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "no GPU-metrics samples in its decode steps") {
		t.Fatalf("verdict %s, reasons %q", r.Verdict, r.Reasons)
	}
	head.Warnings = append(head.Warnings, parse.Warning{Code: parse.WarnNoGPUMetrics, Message: "nsys refused --gpu-metrics-devices=all: counters restricted to admin"})
	r = Compare(fixtureSummary(t, "gm_base1"), head, Options{})
	if len(r.Reasons) != 1 || !strings.HasSuffix(r.Reasons[0], "counters restricted to admin") {
		t.Errorf("reasons %q", r.Reasons)
	}
	// The other way round the head only gained samples: comparable.
	if r := Compare(head, fixtureSummary(t, "gm_base1"), Options{}); r.Verdict == NotComparable {
		t.Errorf("base without samples: %v", r.Reasons)
	}
}
