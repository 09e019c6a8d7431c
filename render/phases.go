package render

import (
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// phaseSection is the prefill/decode table: one row per per-step quantity
// (step span, busy, kernel time, kernels and copies per step), one pair of
// columns (base → head, Δ) per phase present. The comment's version is the
// key numbers only (keyFields), base → head and Δ in one cell per phase.
func phaseSection(r *compare.Result, p plan) *section {
	if p.comment && r.Verdict == compare.NotComparable {
		return nil // the numbers cannot be compared; the fingerprints say why
	}
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
		k := rowKey{field: rest[0], label: phaseField(&m, p.names, rest)}
		if len(rest) > 1 {
			k.stat = rest[1]
		}
		if p.comment && !keyFields[rest[0]] {
			continue
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
		if m.Note != "" && m.Better != compare.Descriptive {
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
	sortPhases(phases)
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
		if p.comment {
			t.head = append(t.head, compare.PhaseLabel(ph)+" (base → head)")
			t.right = append(t.right, true)
			continue
		}
		t.head = append(t.head, compare.PhaseLabel(ph)+" (base → head)", "Δ")
		t.right = append(t.right, true, true)
	}
	for _, k := range rows {
		row := []line{cell(k.label)}
		for _, ph := range phases {
			m, ok := cells[k][ph]
			if !ok {
				row = append(row, cell("—"))
				if !p.comment {
					row = append(row, cell(""))
				}
				continue
			}
			d := line{text(fmtDelta(m))}
			if e := verdictEmoji(m.Verdict); e != "" {
				d = line{bold(fmtDelta(m)), plain(" " + e)}
			} else if m.Improved {
				d = line{bold(fmtDelta(m)), plain(" ⚡")}
			}
			if p.comment {
				// One cell: "1.17 → 1.44 ms **+22.7%** ❌", "2 → 2 (0.0%)".
				if verdictEmoji(m.Verdict) == "" && !m.Improved {
					d = line{text("(" + fmtDelta(m) + ")")}
				}
				row = append(row, append(line{text(shortChange(m)), plain(" ")}, d...))
				continue
			}
			row = append(row, cell(fmtChange(m)), d)
		}
		t.rows = append(t.rows, row)
	}
	blocks := []block{t}
	if src := inferredSteps(r); src != "" {
		blocks = append(blocks, para{l: line{plain("Steps found by " + src + ": no NVTX step range matched.")}, small: true})
	}
	if len(notes) > 0 && !p.comment {
		sort.Strings(notes)
		blocks = append(blocks, para{l: line{plain("Notes: "), text(clip(strings.Join(notes, "; "), 1000))}, small: true})
	}
	title := "Prefill and decode"
	if p.comment {
		title = "Key numbers"
	}
	return &section{key: "phases", title: title, blocks: blocks}
}

// inferredSteps says how the head's steps were inferred, "" when they were
// not (NVTX ranges, or no steps).
func inferredSteps(r *compare.Result) string {
	if src := r.Head.Source.StepSource; strings.HasPrefix(src, "inferred:") {
		return parse.StepSourceName(src)
	}
	return ""
}

// keyFields are the per-step quantities of a comment's key numbers: how
// long a step takes, and what it launches and copies.
var keyFields = map[string]bool{"span": true, "kernel_time": true, "kernels": true, "memcpys": true, "syncs": true}
