package compare

import (
	"strings"
	"testing"
)

// A transformers generate() loop without NVTX (testdata/gpu/hf_generate.py),
// its steps inferred: each decode step is an iteration of a forward and a
// bookkeeping run.

// TestHFSameWorkloadPasses: two recordings of the same SDPA workload pass,
// either way round, with no metric past its warning threshold.
func TestHFSameWorkloadPasses(t *testing.T) {
	for _, pair := range [][2]string{{"hf_sdpa", "hf_sdpa2"}, {"hf_sdpa2", "hf_sdpa"}} {
		r := compareFixtures(t, pair[0], pair[1])
		if r.Verdict != Pass || r.Counts.Fail != 0 || r.Counts.Warn != 0 {
			t.Errorf("%s vs %s: verdict %s, %d failing %v, %d warning", pair[0], pair[1], r.Verdict, r.Counts.Fail, failing(r), r.Counts.Warn)
		}
	}
}

// TestHFEagerAttention: eager attention instead of SDPA, as a performance
// engineer reads it. Each layer's fused cuDNN SDPA kernel becomes a
// matmul, a softmax and elementwise work: 72 more kernels per decode
// iteration (62 in the forward, 10 in the bookkeeping), 7% more GPU time
// per step, which fail and warn; the step's span barely moves, because
// the loop is launch-bound (10 ms of host time per step for 1.4 ms of GPU
// work), so it passes. The headline names a structural change.
func TestHFEagerAttention(t *testing.T) {
	r := compareFixtures(t, "hf_sdpa", "hf_eager")
	if r.Verdict != Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	requireFail(t, r, "phases.decode.kernels", "phases.prefill.kernels")
	requireVerdict(t, r, Warn, "phases.decode.busy.p50", "phases.decode.kernel_time.p50")
	requireVerdict(t, r, Pass, "phases.decode.span.p50", "phases.decode.syncs")
	ms := metricVerdicts(r)
	if m := ms["phases.decode.kernels"]; m.Base != 534 || m.Head != 606 {
		t.Errorf("decode kernels/step %g → %g, want 534 → 606", m.Base, m.Head)
	}
	if m := ms["phases.decode.kernel_time.p50"]; m.DeltaPct < 5 || m.DeltaPct > 10 {
		t.Errorf("decode kernel time p50 %+.1f%%, want about +7%%", m.DeltaPct)
	}
	if m := ms["phases.decode.span.p50"]; m.DeltaPct < -2 || m.DeltaPct > 2 {
		t.Errorf("decode span p50 %+.1f%%, want within 2%% (launch-bound)", m.DeltaPct)
	}
	if len(r.Regressions) == 0 || !strings.HasSuffix(r.Regressions[0].Metric, ".kernels") {
		t.Errorf("headline %+v, want a kernels/step change", r.Regressions)
	}
	removed := false
	for _, k := range r.Kernels.Removed {
		removed = removed || strings.Contains(k.Base, "sdpa")
	}
	added := false
	for _, k := range r.Kernels.Added {
		added = added || strings.Contains(k.Head, "softmax")
	}
	if !removed || !added {
		t.Errorf("kernel set: removed %+v, added %+v: want cuDNN's SDPA kernel out and a softmax in", r.Kernels.Removed, r.Kernels.Added)
	}
}
