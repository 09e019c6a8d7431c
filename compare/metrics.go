package compare

import (
	"fmt"
)

// entry is one summary's value of one named metric, before judgement.
type entry struct {
	name   string
	fam    *family
	group  Group
	unit   Unit
	kind   Kind
	better Better
	value  float64
	// samples are the per-step values of a stat metric; nil where the
	// summary has none (aggregates, legacy summaries).
	samples []float64
	// sampled is set for metrics that normally carry samples, so that their
	// absence (a legacy summary) can be said.
	sampled bool
	// note is said next to the metric (the kernel_set metrics name the
	// kernels they count).
	note string
	// ungated, on a base entry, says why this base cannot gate the metric
	// (it is shown as information instead); empty where it can.
	ungated string
	// share is a single kernel's share of kernel time (0..1), used to decide
	// whether it is gated; -1 for every other metric.
	share float64
}

func lessMetric(gi Group, ni string, gj Group, nj string) bool {
	if ri, rj := gi.rank(), gj.rank(); ri != rj {
		return ri < rj
	}
	return ni < nj
}

// unitString is for notes.
func unitString(u Unit) string {
	if u == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", string(u))
}
