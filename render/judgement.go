package render

import (
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// The parts of a report that show gate's judgement rather than its
// measurements: the cause and the improvements in the verdict line, the
// improvements table, and what can fail.

// finding pairs a ranked finding with its metric.
type finding struct {
	label string
	m     *compare.Metric
}

// findings resolves a Result's ranked findings to their metrics, dropping
// names the result does not hold (a hand-made or forged result JSON).
func findings(r *compare.Result, fs []compare.Finding) []finding {
	byName := make(map[string]*compare.Metric, len(r.Metrics))
	for i := range r.Metrics {
		byName[r.Metrics[i].Name] = &r.Metrics[i]
	}
	var out []finding
	for _, f := range fs {
		if m := byName[f.Metric]; m != nil {
			out = append(out, finding{label: compare.Label(m.Name), m: m})
		}
	}
	return out
}

// change says a finding in words with units: "decode step p50 1.17 →
// 1.44 ms (+22.7%)", a kernel by its short name.
func change(f finding, p plan) line {
	_, title, field := entity(f.m, p.names)
	l := append(line{}, title...)
	return append(l, text(clip(field, maxName)), plain(" "), text(shortChange(*f.m)), plain(" ("), text(fmtDelta(*f.m)), plain(")"))
}

// shortChange is fmtChange with a unit both sides share said once:
// "1.17 → 1.44 ms".
func shortChange(m compare.Metric) string {
	if !m.HasBase || !m.HasHead {
		return fmtChange(m)
	}
	b, h := fmtValue(m.Base, m.Unit), fmtValue(m.Head, m.Unit)
	if i, j := strings.LastIndexByte(b, ' '), strings.LastIndexByte(h, ' '); i > 0 && j > 0 && b[i:] == h[j:] {
		b = b[:i]
	}
	return b + " → " + h
}

// cause is the regression the verdict line names: the first ranked
// regression, or for a result without rankings (an older result JSON) the
// failing metric headline picks.
func cause(r *compare.Result) (finding, bool) {
	if fs := findings(r, r.Regressions); len(fs) > 0 {
		return fs[0], true
	}
	if m := headline(r.Metrics); m != nil {
		return finding{label: compare.Label(m.Name), m: m}, true
	}
	if ms := ranked(r, nil, regressed); len(ms) > 0 {
		return finding{label: compare.Label(ms[0].Name), m: ms[0]}, true
	}
	return finding{}, false
}

// whatFails says which metrics can fail and why, beside howMeasured.
var whatFails = line{plain("What can fail: a change that makes the workload cost more: step time, kernels, copies, bytes or syncs per step, " +
	"launches outside CUDA graphs, a kernel's or component's time. " +
	"Shares of a phase's kernel time, coverage by time, busy shares and rates are compositional: they move when anything else moves, " +
	"so they explain and at most warn beside a failure of what they stand for, never fail alone. " +
	"Added, removed and changed kernels are news, not failures: a new kernel fails through what it costs. " +
	"A head that lost what the base measured (steps, devices, communication, bandwidth) is not comparable: it cannot be judged.")}

// attributionSection is where the time went: for each phase whose step
// time moved, its kernel time per step decomposed into the kernels that
// changed most, the rest, and the components.
func attributionSection(r *compare.Result, p plan) *section {
	if len(r.Attribution) == 0 {
		return nil
	}
	s := &section{key: "attribution", title: "Where the time went"}
	for _, a := range r.Attribution {
		d := a.HeadNs - a.BaseNs
		s.blocks = append(s.blocks, para{l: line{bold(clip(a.Phase, 40)), plain(": kernel time per step " + fmtValue(a.BaseNs, compare.UnitNs) + " → " +
			fmtValue(a.HeadNs, compare.UnitNs) + " (" + signed(d, fmtValue(d, compare.UnitNs)) + "), the parts below sum to the change")}})
		t := table{head: []string{"Kernel", "Component", "Time/step (base → head)", "Δ/step", "Launches/step (base → head)"}, right: []bool{false, false, true, true, true}}
		for _, k := range a.Kernels {
			t.rows = append(t.rows, append([]line{{p.names.kernel(k.Name)}, cell(k.Component)}, partCells(k)...))
		}
		if a.Rest != nil {
			t.rows = append(t.rows, append([]line{cell("rest (" + plural(a.Rest.Count, "kernel", "kernels") + ")"), cell("")}, partCells(*a.Rest)...))
		}
		s.blocks = append(s.blocks, t)
		var comps line
		for i, c := range a.Components {
			if i == p.kernelRows {
				break
			}
			if i > 0 {
				comps = append(comps, plain(", "))
			}
			cd := c.HeadNs - c.BaseNs
			comps = append(comps, text(clip(c.Name, 40)), plain(" "+signed(cd, fmtValue(cd, compare.UnitNs))))
		}
		if len(comps) > 0 {
			s.blocks = append(s.blocks, para{l: append(line{plain("By component: ")}, comps...), small: true})
		}
	}
	return s
}

// partCells are a part's time and launches per step.
func partCells(k compare.TimePart) []line {
	d := k.HeadNs - k.BaseNs
	return []line{cell(fmtValue(k.BaseNs, compare.UnitNs) + " → " + fmtValue(k.HeadNs, compare.UnitNs)), line{bold(signed(d, fmtValue(d, compare.UnitNs)))},
		cell(fmtCount(k.BaseLaunches) + " → " + fmtCount(k.HeadLaunches))}
}
