package render

import (
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// phaseSection is the prefill/decode table: one row per per-step quantity
// (step span, busy, kernel time, kernels and copies per step), one pair of
// columns (base → head, Δ) per phase present.
func phaseSection(r *compare.Result) *section {
	type rowKey struct {
		field string
		stat  string
		label string
	}
	cells := map[rowKey]map[string]compare.Metric{}
	var rows []rowKey
	var phases []string
	seen := map[string]bool{}
	var notes []string
	noted := map[string]bool{}
	for _, m := range r.Metrics {
		if m.Group != "phase" {
			continue
		}
		s := segments(m.Name)
		phase, rest := "", s[len(s)-1:]
		if len(s) >= 3 {
			phase, rest = s[1], s[2:]
		}
		k := rowKey{field: rest[0], label: fieldLabel(rest)}
		if len(rest) > 1 {
			k.stat = rest[1]
		}
		if cells[k] == nil {
			cells[k] = map[string]compare.Metric{}
			rows = append(rows, k)
		}
		cells[k][phase] = m
		if !seen[phase] {
			seen[phase] = true
			phases = append(phases, phase)
		}
		if m.Note != "" {
			n := phase + ": " + m.Note
			if !noted[n] {
				noted[n] = true
				notes = append(notes, n)
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	sort.SliceStable(phases, func(i, j int) bool {
		if a, b := phaseRank(phases[i]), phaseRank(phases[j]); a != b {
			return a < b
		}
		return phases[i] < phases[j]
	})
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if x, y := fieldRank(a.field), fieldRank(b.field); x != y {
			return x < y
		}
		if x, y := statRank(a.stat), statRank(b.stat); x != y {
			return x < y
		}
		return a.label < b.label
	})
	t := table{head: []string{"Per step"}, right: []bool{false}}
	for _, ph := range phases {
		t.head = append(t.head, ph+" (base → head)", "Δ")
		t.right = append(t.right, true, true)
	}
	for _, k := range rows {
		row := []line{cell(k.label)}
		for _, ph := range phases {
			m, ok := cells[k][ph]
			if !ok {
				row = append(row, cell("—"), cell(""))
				continue
			}
			d := line{text(fmtDelta(m))}
			if e := verdictEmoji(m.Verdict); e != "" {
				d = line{bold(fmtDelta(m)), plain(" " + e)}
			}
			row = append(row, cell(fmtChange(m)), d)
		}
		t.rows = append(t.rows, row)
	}
	blocks := []block{t}
	if src := inferredSteps(r); src != "" {
		blocks = append(blocks, para{l: line{plain("Steps found by " + src + ": no NVTX step range matched.")}, small: true})
	}
	if len(notes) > 0 {
		sort.Strings(notes)
		blocks = append(blocks, para{l: line{plain("Notes: "), text(clip(strings.Join(notes, "; "), 1000))}, small: true})
	}
	return &section{key: "phases", title: "Prefill and decode", blocks: blocks}
}

// inferredSteps says how the head's steps were inferred, "" when they were
// not (NVTX ranges, or no steps).
func inferredSteps(r *compare.Result) string {
	if src := r.Head.Source.StepSource; strings.HasPrefix(src, "inferred:") {
		return parse.StepSourceName(src)
	}
	return ""
}
