package render

import (
	"math"

	"github.com/nsys-gate/gate/compare"
)

// kernelSection shows how the set of kernels changed: the largest changes in
// time and in launches per step first (what a reviewer asks "why?" about),
// then kernels added, removed and swapped for another variant.
func kernelSection(r *compare.Result, p plan) *section {
	k := r.Kernels
	if len(k.Added)+len(k.Removed)+len(k.Variant)+len(k.TopTime)+len(k.TopCount) == 0 {
		return nil
	}
	s := &section{key: "kernels", title: "Kernels"}
	s.blocks = append(s.blocks, para{l: line{plain(itoa(len(k.Added)) + " added, " +
		itoa(len(k.Removed)) + " removed, " + itoa(len(k.Variant)) + " changed variant.")}})
	if top := changed(k.TopTime); len(top) > 0 {
		t := table{head: []string{"Kernel", "Component", "Time (base → head)", "Δ", "Per step (base → head)"}, right: []bool{false, false, true, true, true}}
		t.rows, t.more = kernelRows(top, p.kernelRows, func(c compare.KernelChange) []line {
			return []line{kernelName(c, p.names), cell(c.Component), cell(fmtNs(c.BaseNs) + " → " + fmtNs(c.HeadNs)), cell(relChange(float64(c.BaseNs), float64(c.HeadNs))), cell(fmtCount(c.BasePerStep) + " → " + fmtCount(c.HeadPerStep))}
		})
		s.blocks = append(s.blocks, para{l: line{bold("Largest changes in time")}}, t)
	}
	if top := changed(k.TopCount); len(top) > 0 {
		t := table{head: []string{"Kernel", "Component", "Per step (base → head)", "Δ", "Launches (base → head)"}, right: []bool{false, false, true, true, true}}
		t.rows, t.more = kernelRows(top, p.kernelRows, func(c compare.KernelChange) []line {
			return []line{kernelName(c, p.names), cell(c.Component), cell(fmtCount(c.BasePerStep) + " → " + fmtCount(c.HeadPerStep)), cell(relChange(c.BasePerStep, c.HeadPerStep)), cell(fmtCount(float64(c.BaseCount)) + " → " + fmtCount(float64(c.HeadCount)))}
		})
		s.blocks = append(s.blocks, para{l: line{bold("Largest changes in launches per step")}}, t)
	}
	if len(changed(k.TopTime))+len(changed(k.TopCount)) == 0 && len(k.TopTime)+len(k.TopCount) > 0 {
		s.blocks = append(s.blocks, para{l: line{plain("No kernel's time or launches changed by 1% or more.")}})
	}
	if len(k.Added) > 0 {
		t := table{head: []string{"Added kernel", "Component", "Time", "Per step", "Launches"}, right: []bool{false, false, true, true, true}}
		t.rows, t.more = kernelRows(k.Added, p.kernelRows, func(c compare.KernelChange) []line {
			return []line{{p.names.kernel(c.Head)}, cell(c.Component), cell(fmtNs(c.HeadNs)), cell(fmtCount(c.HeadPerStep)), cell(fmtCount(float64(c.HeadCount)))}
		})
		s.blocks = append(s.blocks, t)
	}
	if len(k.Removed) > 0 {
		t := table{head: []string{"Removed kernel", "Component", "Time", "Per step", "Launches"}, right: []bool{false, false, true, true, true}}
		t.rows, t.more = kernelRows(k.Removed, p.kernelRows, func(c compare.KernelChange) []line {
			return []line{{p.names.kernel(c.Base)}, cell(c.Component), cell(fmtNs(c.BaseNs)), cell(fmtCount(c.BasePerStep)), cell(fmtCount(float64(c.BaseCount)))}
		})
		s.blocks = append(s.blocks, t)
	}
	if len(k.Variant) > 0 {
		t := table{head: []string{"Base kernel", "Head kernel", "Matched by", "Component", "Time (base → head)"}, right: []bool{false, false, false, false, true}}
		t.rows, t.more = kernelRows(k.Variant, p.kernelRows, func(c compare.KernelChange) []line {
			return []line{{p.names.kernel(c.Base)}, {p.names.kernel(c.Head)}, cell(c.Match), cell(c.Component), cell(fmtNs(c.BaseNs) + " → " + fmtNs(c.HeadNs))}
		})
		s.blocks = append(s.blocks, t)
	}
	return s
}

// kernelRows makes at most n rows and says how many were left out.
func kernelRows(cs []compare.KernelChange, n int, row func(compare.KernelChange) []line) ([][]line, int) {
	var rows [][]line
	for i, c := range cs {
		if i == n {
			return rows, len(cs) - n
		}
		rows = append(rows, row(c))
	}
	return rows, 0
}

// kernelName names a matched pair: the head name, and the base name too
// when matching had to look past the exact name.
func kernelName(c compare.KernelChange, nm names) line {
	switch {
	case c.Head == "":
		return line{nm.kernel(c.Base)}
	case c.Base == "" || c.Base == c.Head:
		return line{nm.kernel(c.Head)}
	}
	return line{nm.kernel(c.Head), plain(" (was "), nm.kernel(c.Base), plain(")")}
}

func fmtNs(ns int64) string { return fmtValue(float64(ns), "ns") }

func itoa(n int) string { return fmtCount(float64(n)) }

// relChange formats the relative change from b to h; "new" when b is 0.
func relChange(b, h float64) string {
	switch {
	case b == h:
		return "0.0%"
	case b == 0:
		return "new"
	}
	return fmtPct((h - b) / b * 100)
}

// minChange is the relative change in time below which a kernel in a "largest
// changes" list is noise not worth a row (unless its launches changed).
const minChange = 0.01

// changed drops the kernels of a "largest changes" list that did not change:
// when only a few kernels moved, the rest of compare's top N is noise.
func changed(cs []compare.KernelChange) []compare.KernelChange {
	var out []compare.KernelChange
	for _, c := range cs {
		b, h := float64(c.BaseNs), float64(c.HeadNs)
		moved := b == 0 || h == 0 || math.Abs(h-b)/b >= minChange
		launches := math.Abs(float64(c.HeadCount-c.BaseCount)) >= minChange*math.Max(1, float64(c.BaseCount))
		if moved || c.BasePerStep != c.HeadPerStep || launches {
			out = append(out, c)
		}
	}
	return out
}

// kernelNews is the comment's line on the kernel set: which kernels were
// added, removed or swapped for another variant. They are news, not
// failures (a new kernel fails through what it costs), so they are named,
// a few each, and the full report has the rest with their numbers.
func kernelNews(r *compare.Result, p plan) *section {
	k := r.Kernels
	if len(k.Added)+len(k.Removed)+len(k.Variant) == 0 || r.Verdict == compare.NotComparable {
		return nil
	}
	const few = 3
	var l line
	part := func(what string, cs []compare.KernelChange, name func(compare.KernelChange) line) {
		if len(cs) == 0 {
			return
		}
		if len(l) > 0 {
			l = append(l, plain(" · "))
		}
		l = append(l, plain(what+": "))
		for i, c := range cs {
			if i == few {
				l = append(l, plain(" and "+itoa(len(cs)-few)+" more"))
				break
			}
			if i > 0 {
				l = append(l, plain(", "))
			}
			l = append(l, name(c)...)
		}
	}
	part(plural(len(k.Added), "added", "added"), k.Added, func(c compare.KernelChange) line { return line{p.names.kernel(c.Head)} })
	part(plural(len(k.Removed), "removed", "removed"), k.Removed, func(c compare.KernelChange) line { return line{p.names.kernel(c.Base)} })
	part(plural(len(k.Variant), "changed variant", "changed variants"), k.Variant, func(c compare.KernelChange) line {
		return line{p.names.kernel(c.Base), plain(" → "), p.names.kernel(c.Head)}
	})
	return &section{key: "kernels", title: "Kernel set", blocks: []block{para{l: l}}}
}
