package compare

import (
	"maps"

	"github.com/nsys-gate/gate/parse"
)

// maxSteps bounds the spans kept per phase and side: a distribution needs
// no more, and a result JSON stays small for runs of thousands of steps.
const maxSteps = 2000

// stepSpans are the step spans of every phase either side has steps in, in
// phase order; a side without the phase has none.
func stepSpans(base, head *parse.Summary) []PhaseSteps {
	var out []PhaseSteps
	for _, pn := range phaseNames(unionPhases(base.Phases, head.Phases)) {
		ps := PhaseSteps{Phase: pn, Base: spanSamples(base.Phases[pn]), Head: spanSamples(head.Phases[pn])}
		if len(ps.Base)+len(ps.Head) > 0 {
			out = append(out, ps)
		}
	}
	return out
}

func unionPhases(a, b map[string]*parse.Phase) map[string]*parse.Phase {
	out := make(map[string]*parse.Phase, len(a)+len(b))
	maps.Copy(out, b)
	maps.Copy(out, a)
	return out
}

// spanSamples are a phase's step spans, evenly thinned to maxSteps.
func spanSamples(p *parse.Phase) []float64 {
	if p == nil || len(p.Samples) == 0 {
		return nil
	}
	n := len(p.Samples)
	k := min(n, maxSteps)
	out := make([]float64, 0, k)
	for i := range k {
		out = append(out, float64(p.Samples[i*n/k].SpanNs))
	}
	return out
}
