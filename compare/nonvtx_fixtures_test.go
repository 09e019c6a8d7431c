package compare

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// TestNoNVTXJudgement: the default workload traced with -t cuda only
// (testdata/nsys/nonvtx_*), steps inferred on both sides. The doubled
// attention fails on the decode step and its headline names the cuDNN SDPA
// kernel, 8 -> 16 launches per decode step, as with NVTX (base_a ->
// regress_double_attn). Decode run eagerly instead of in CUDA graphs makes
// the inference find the steps another way (a repeating launch sequence,
// not graph launches): steps found two ways are not comparable, and the
// reason names both, which is what issue 15's rule asks; the decode mode
// change itself is not judged.
func TestNoNVTXJudgement(t *testing.T) {
	r := compareFixtures(t, "nonvtx_base", "nonvtx_double_attn")
	if r.Verdict != Fail {
		t.Fatalf("double attention: verdict %s, want fail", r.Verdict)
	}
	requireFail(t, r, "phases.decode.span.p50", "phases.decode.kernels")
	// The first kernel among the regressions, and the first part of where
	// the time went, is the SDPA kernel at twice the launches.
	var kernel *Metric
	for _, f := range r.Regressions {
		if f.Class == ClassKernel {
			m := metricVerdicts(r)[f.Metric]
			kernel = &m
			break
		}
	}
	if kernel == nil || !strings.Contains(kernel.Name, "sdpa") || !strings.HasSuffix(kernel.Name, ".per_step") || kernel.Base != 8 || kernel.Head != 16 {
		t.Errorf("first kernel regression %+v, want the cuDNN SDPA kernel's launches per decode step 8 -> 16", kernel)
	}
	if k := decodeAttribution(t, r).Kernels[0]; !strings.Contains(k.Name, "sdpa") || k.BaseLaunches != 8 || k.HeadLaunches != 16 {
		t.Errorf("first part of where the time went %+v, want the SDPA kernel 8 -> 16 launches per step", k)
	}

	r = compareFixtures(t, "nonvtx_base", "nonvtx_eager")
	if r.Verdict != NotComparable || len(r.Reasons) == 0 {
		t.Fatalf("eager decode: verdict %s %v, want not comparable", r.Verdict, r.Reasons)
	}
	why := strings.Join(r.Reasons, "; ")
	for _, method := range []string{parse.StepsGraph, parse.StepsRepeat} {
		if !strings.Contains(why, parse.StepSourceName(method)) {
			t.Errorf("reason %q does not name %q", why, parse.StepSourceName(method))
		}
	}
	if !strings.Contains(why, "no longer replay CUDA graphs; name the steps with NVTX ranges") {
		t.Errorf("reason %q does not say that CUDA graphs went, nor what to do", why)
	}
	// The other way round (turning CUDA graphs on): the same refusal, said
	// from the head's side.
	r = compareFixtures(t, "nonvtx_eager", "nonvtx_base")
	if why := strings.Join(r.Reasons, "; "); r.Verdict != NotComparable || !strings.Contains(why, "the head's steps replay CUDA graphs and the base's did not") {
		t.Errorf("eager to graphs: verdict %s, reasons %q", r.Verdict, why)
	}
	// Both eager: the doubled attention is judged again.
	r = compareFixtures(t, "nonvtx_eager", "nonvtx_eager_double_attn")
	if r.Verdict != Fail {
		t.Errorf("eager double attention: verdict %s %v, want fail", r.Verdict, r.Reasons)
	}
}
