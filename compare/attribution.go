package compare

import (
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// topParts is how many kernels an attribution names before the rest.
const topParts = 5

// attribute says where the time went, for each phase whose step time
// regressed or improved: the change of its kernel time per step, base to
// head, decomposed by kernel (the largest changes, then the rest) and by
// component. The parts sum to the whole by construction: parse's per-phase
// kernel totals (parse.Phase.ByKernel) add up to the steps' kernel time.
// Phases without those totals on both sides (older summaries, merged
// ranks) are left out.
func attribute(base, head *parse.Summary, ms []Metric) []PhaseAttribution {
	moved := map[string]bool{}
	for _, m := range ms {
		if pn := phaseOf(m.Name); pn != "" && ClassOf(m.Name) == ClassStepTime && !Compositional(m.Name) &&
			(m.Verdict == Fail || m.Verdict == Warn || m.Improved) {
			moved[pn] = true
		}
	}
	var out []PhaseAttribution
	for _, pn := range phaseNames(head.Phases) {
		bp, hp := base.Phases[pn], head.Phases[pn]
		if !moved[pn] || bp == nil || hp == nil || bp.Steps == 0 || hp.Steps == 0 || len(bp.ByKernel) == 0 || len(hp.ByKernel) == 0 {
			continue
		}
		out = append(out, attributePhase(pn, bp, hp))
	}
	return out
}

// attributePhase decomposes one phase's kernel time per step. parse gives
// a kernel name one part per component its variants fall in: a kernel here
// is such a part, so that its component is right, and the components are
// the sums of their parts, equal to the phase's component table.
func attributePhase(pn string, bp, hp *parse.Phase) PhaseAttribution {
	a := PhaseAttribution{Phase: pn, BaseSteps: bp.Steps, HeadSteps: hp.Steps}
	kernels := perStepParts(bp, hp, func(k parse.PhaseKernel) (string, string) { return k.Name, k.Component })
	comps := perStepParts(bp, hp, func(k parse.PhaseKernel) (string, string) { return k.Component, "" })
	for _, p := range kernels {
		a.BaseNs += p.BaseNs
		a.HeadNs += p.HeadNs
	}
	byChange(kernels)
	byChange(comps)
	for i, p := range kernels {
		if i < topParts {
			a.Kernels = append(a.Kernels, p)
			continue
		}
		if a.Rest == nil {
			a.Rest = &TimePart{Name: "rest"}
		}
		a.Rest.Count++
		a.Rest.BaseNs += p.BaseNs
		a.Rest.HeadNs += p.HeadNs
		a.Rest.BaseLaunches += p.BaseLaunches
		a.Rest.HeadLaunches += p.HeadLaunches
	}
	a.Components = comps
	return a
}

// perStepParts sums base's and head's per-kernel totals under the name and
// component that key gives them, and divides each sum by its side's step
// count (once, so that a part is its side's total over its steps exactly).
func perStepParts(bp, hp *parse.Phase, key func(parse.PhaseKernel) (name, comp string)) []TimePart {
	type sums struct {
		name, comp    string
		baseNs, baseN int64
		headNs, headN int64
	}
	idx := map[[2]string]int{}
	var all []sums
	add := func(k parse.PhaseKernel, isHead bool) {
		name, comp := key(k)
		i, ok := idx[[2]string{name, comp}]
		if !ok {
			i = len(all)
			idx[[2]string{name, comp}] = i
			all = append(all, sums{name: name, comp: comp})
		}
		s := &all[i]
		if isHead {
			s.headNs += k.TotalNs
			s.headN += k.Launches
		} else {
			s.baseNs += k.TotalNs
			s.baseN += k.Launches
		}
	}
	for _, k := range bp.ByKernel {
		add(k, false)
	}
	for _, k := range hp.ByKernel {
		add(k, true)
	}
	b, h := float64(bp.Steps), float64(hp.Steps)
	parts := make([]TimePart, len(all))
	for i, s := range all {
		parts[i] = TimePart{Name: s.name, Component: s.comp,
			BaseNs: float64(s.baseNs) / b, HeadNs: float64(s.headNs) / h,
			BaseLaunches: float64(s.baseN) / b, HeadLaunches: float64(s.headN) / h}
	}
	return parts
}

// byChange orders parts by the size of their change, largest first, ties
// by name, then component.
func byChange(ps []TimePart) {
	sort.SliceStable(ps, func(i, j int) bool {
		di, dj := math.Abs(ps[i].HeadNs-ps[i].BaseNs), math.Abs(ps[j].HeadNs-ps[j].BaseNs)
		if di != dj {
			return di > dj
		}
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Component < ps[j].Component
	})
}

// phaseOf is the phase segment of a phase metric, "" for others.
func phaseOf(name string) string {
	if rest, ok := strings.CutPrefix(name, "phases."); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			pn, _, _ := strings.Cut(rest[:i], "@") // a group's phase
			return pn
		}
	}
	return ""
}
