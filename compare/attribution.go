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

// attributePhase decomposes one phase's kernel time per step.
func attributePhase(pn string, bp, hp *parse.Phase) PhaseAttribution {
	a := PhaseAttribution{Phase: pn, BaseSteps: bp.Steps, HeadSteps: hp.Steps}
	kernels := perStepParts(bp, hp, func(k parse.PhaseKernel) string { return k.Name })
	// A kernel name can be classed differently on the two sides (one name,
	// several template variants: parse names the component of one). The
	// components use one class per name, head's where it has the kernel,
	// so that a kernel's time does not seem to move between components.
	class := map[string]string{}
	for _, k := range kernels {
		class[k.Name] = k.Component
	}
	comps := perStepParts(bp, hp, func(k parse.PhaseKernel) string { return class[k.Name] })
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
	for i := range comps {
		comps[i].Component = ""
	}
	a.Components = comps
	return a
}

// perStepParts sums base's and head's per-kernel totals under key and
// divides them by each side's step count.
func perStepParts(bp, hp *parse.Phase, key func(parse.PhaseKernel) string) []TimePart {
	idx := map[string]int{}
	var parts []TimePart
	add := func(k parse.PhaseKernel, steps int, isHead bool) {
		name := key(k)
		i, ok := idx[name]
		if !ok {
			i = len(parts)
			idx[name] = i
			parts = append(parts, TimePart{Name: name, Component: k.Component})
		}
		p := &parts[i]
		ns, launches := float64(k.TotalNs)/float64(steps), float64(k.Launches)/float64(steps)
		if isHead {
			p.HeadNs += ns
			p.HeadLaunches += launches
			p.Component = k.Component
		} else {
			p.BaseNs += ns
			p.BaseLaunches += launches
		}
	}
	for _, k := range bp.ByKernel {
		add(k, bp.Steps, false)
	}
	for _, k := range hp.ByKernel {
		add(k, hp.Steps, true)
	}
	return parts
}

// byChange orders parts by the size of their change, largest first, ties
// by name.
func byChange(ps []TimePart) {
	sort.SliceStable(ps, func(i, j int) bool {
		di, dj := math.Abs(ps[i].HeadNs-ps[i].BaseNs), math.Abs(ps[j].HeadNs-ps[j].BaseNs)
		if di != dj {
			return di > dj
		}
		return ps[i].Name < ps[j].Name
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
