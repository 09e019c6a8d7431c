package compare

import (
	"slices"
	"testing"

	"github.com/nsys-gate/gate/internal/stats"
)

// The step spans a report draws are the samples the step-time p50 was
// computed from.
func TestStepSpans(t *testing.T) {
	base, head := fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_double_attn")
	r := Compare(base, head, Options{})
	var decode *PhaseSteps
	for i := range r.Steps {
		if r.Steps[i].Phase == "decode" {
			decode = &r.Steps[i]
		}
	}
	if decode == nil || len(decode.Base) != base.Phases["decode"].Steps || len(decode.Head) != head.Phases["decode"].Steps {
		t.Fatalf("decode steps = %+v", decode)
	}
	for _, m := range r.Metrics {
		if m.Name != "phases.decode.span.p50" {
			continue
		}
		if b, h := stats.Median(slices.Sorted(slices.Values(decode.Base))), stats.Median(slices.Sorted(slices.Values(decode.Head))); b != m.Base || h != m.Head {
			t.Errorf("median of the spans %v → %v, metric %v → %v", b, h, m.Base, m.Head)
		}
	}
	if r.Steps[0].Phase != "prefill" {
		t.Errorf("phases out of order: %s first", r.Steps[0].Phase)
	}
}
