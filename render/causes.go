package render

import (
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// One row per cause. A kernel launched twice as often fails as its launches
// per step, its total time and its launch count; a component as its time
// and its share; a phase as its span, busy and kernel time. A reviewer
// reads one fact per row: the metrics about one thing are gathered into one
// row, led by the one compare ranks first, the others said below it.

// causeRow is one thing that changed and the metrics that say how, lead first.
type causeRow struct {
	key   string
	title line // what it is: "decode", a kernel, "decode · attention"
	ms    []*compare.Metric
	worst compare.Verdict
}

// entity says what a metric is about (key, and title ending in the
// separator that joins it to a field: "decode · ", "decode · attention ")
// and which of its quantities it is, in words ("step p50",
// "launches/decode step").
func entity(m *compare.Metric, nm names) (key string, title line, field string) {
	s := segments(m.Name)
	raw := strings.Split(m.Name, ".")
	label := compare.Label(m.Name)
	field = label
	// strip removes the words a field's label starts with, as Label
	// spells them (DisplayName of the name's segments, PhaseLabel of the
	// phase a phase, gpu_metrics or components name starts with).
	phased := s[0] == "phases" || s[0] == "gpu_metrics" || s[0] == "components"
	strip := func(words ...string) string {
		for i, w := range words {
			for j := range s {
				if s[j] == w && j < len(raw) {
					words[i] = compare.DisplayName(raw[j])
					break
				}
			}
			if i == 0 && phased {
				words[i] = compare.PhaseLabel(words[i])
			}
		}
		p := strings.Join(words, " ") + " "
		if strings.HasPrefix(label, p) {
			return strings.TrimPrefix(label, p)
		}
		return label
	}
	switch {
	case s[0] == "phases" && len(s) >= 3:
		kind := s[2]
		switch s[2] {
		case "span", "busy", "kernel_time", "busy_pct":
			kind = "time"
		case "memcpys", "memcpy_bytes", "dtoh", "syncs":
			kind = "copies"
		}
		return "phases." + s[1] + "." + kind, line{text(compare.PhaseLabel(s[1])), plain(" · ")}, strip(s[1])
	case s[0] == "gpu_metrics" && len(s) >= 3:
		// What the GPU's counters saw in a phase: its DRAM traffic, SM
		// and tensor activity, one row.
		return "gpu_metrics." + s[1], line{text(compare.PhaseLabel(s[1])), plain(" · ")}, strip(s[1])
	case (s[0] == "kernels" || s[0] == "bandwidth") && len(s) == 3:
		return s[0] + "." + s[1], line{nm.kernel(s[1]), plain(" · ")}, strip(s[1])
	case s[0] == "components" && len(s) == 4:
		return strings.Join(s[:3], "."), line{text(compare.PhaseLabel(s[1]) + " · " + s[2]), plain(" ")}, strip(s[1], s[2])
	case s[0] == "components" && len(s) == 3:
		return strings.Join(s[:2], "."), line{text(s[1]), plain(" ")}, strip(s[1])
	case s[0] == "memory" && len(s) == 4:
		what := s[1]
		if s[2] != "_" {
			what += " " + s[2]
		}
		return strings.Join(s[:3], "."), line{text(what), plain(" ")}, strip(s[1], s[2])
	case s[0] == "cuda_graphs", s[0] == "kernel_set":
		return s[0], nil, label
	}
	return m.Name, nil, label
}

// gather groups metrics into causes, keeping the order in which each
// cause's first metric comes.
func gather(ms []*compare.Metric, nm names) []*causeRow {
	var out []*causeRow
	byKey := map[string]*causeRow{}
	for _, m := range ms {
		key, title, _ := entity(m, nm)
		c := byKey[key]
		if c == nil {
			c = &causeRow{key: key, title: title, worst: m.Verdict}
			byKey[key] = c
			out = append(out, c)
		}
		c.ms = append(c.ms, m)
		if severity(m.Verdict) < severity(c.worst) {
			c.worst = m.Verdict
		}
	}
	return out
}

// ranked is what compare ranked (fs), resolved to metrics; for a result
// without rankings (an older result JSON, a hand-made one) the metrics that
// pass keep, worst and largest first.
func ranked(r *compare.Result, fs []compare.Finding, keep func(*compare.Metric) bool) []*compare.Metric {
	var out []*compare.Metric
	for _, f := range findings(r, fs) {
		out = append(out, f.m)
	}
	if len(out) > 0 {
		return out
	}
	for i := range r.Metrics {
		if keep(&r.Metrics[i]) {
			out = append(out, &r.Metrics[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if severity(a.Verdict) != severity(b.Verdict) {
			return severity(a.Verdict) < severity(b.Verdict)
		}
		return size(a) > size(b)
	})
	return out
}

func regressed(m *compare.Metric) bool { return m.Verdict == compare.Fail || m.Verdict == compare.Warn }
func improved(m *compare.Metric) bool  { return m.Improved }

// causeSections are the regressions, then the warnings: one row per cause.
// A cause is a regression when any of its metrics failed.
func causeSections(r *compare.Result, p plan) []*section {
	if r.Verdict == compare.NotComparable || r.Verdict == compare.NoBaseline {
		return nil
	}
	var fail, warn []*causeRow
	for _, c := range gather(ranked(r, r.Regressions, regressed), p.names) {
		if c.worst == compare.Fail {
			fail = append(fail, c)
		} else {
			warn = append(warn, c)
		}
	}
	var out []*section
	if len(fail) > 0 {
		out = append(out, causeTable("regressions", "Regressions", fail, p.regressRows, p))
	}
	if len(warn) > 0 {
		out = append(out, causeTable("warnings", "Warnings", warn, p.tableRows, p))
	}
	if len(out) > 0 {
		s := out[len(out)-1]
		s.blocks = append(s.blocks, para{l: line{plain(notListed(r, p))}, small: true})
	}
	return out
}

// improvementSection is what got better, one row per cause.
func improvementSection(r *compare.Result, p plan) *section {
	if r.Verdict == compare.NotComparable || r.Verdict == compare.NoBaseline {
		return nil
	}
	cs := gather(ranked(r, r.Improvements, improved), p.names)
	if len(cs) == 0 {
		return nil
	}
	for _, c := range cs {
		c.worst = compare.Pass
	}
	return causeTable("improvements", "Improvements", cs, p.tableRows, p)
}

// notListed says what the causes tables leave out.
func notListed(r *compare.Result, p plan) string {
	c := r.Counts
	s := plural(c.Fail, "failing", "failing") + " and " + plural(c.Warn, "warning", "warning") + " metrics in the rows above"
	if p.comment {
		s += "; " + plural(c.Pass, "metric", "metrics") + " within their limits and " + itoa(c.Info) + " shown for information are in the full report"
	}
	return s + "."
}

// causeTable is one row per cause: what changed, base → head, Δ, and the
// limit it crossed; the cause's other metrics under its name; the notes
// below the table. A compositional metric's note is the same for all of
// them, so it is said once (sharesNote), where one of them warns; the full
// report keeps each metric's note.
func causeTable(key, title string, cs []*causeRow, rows int, p plan) *section {
	t := table{head: []string{"What changed", "Base → Head", "Δ", "Limit"}, right: []bool{false, true, true, false}}
	var notes []string
	noted := map[string]bool{}
	shares := false
	for i, c := range cs {
		if i == rows {
			t.more = len(cs) - i
			break
		}
		lead := c.ms[0]
		_, _, field := entity(lead, p.names)
		what := append(line{plain(causeMark(c.worst, lead) + " ")}, c.title...)
		what = append(what, text(clip(field, 60)))
		for j, m := range c.ms[1:] {
			if j == 0 {
				what = append(what, br(), plain("also "))
			} else {
				what = append(what, plain(", "))
			}
			_, _, f := entity(m, p.names)
			what = append(what, text(clip(f, 60)), plain(" "), text(fmtDelta(*m)))
			if e := verdictEmoji(m.Verdict); e != "" && m.Verdict != lead.Verdict {
				what = append(what, plain(" "+e))
			}
		}
		for _, m := range c.ms {
			if compare.Compositional(m.Name) {
				shares = shares || m.Verdict == compare.Warn
				continue
			}
			if n := m.Note; n != "" && !noted[n] {
				noted[n] = true
				notes = append(notes, n)
			}
		}
		t.rows = append(t.rows, []line{what, cell(shortChange(*lead)), line{bold(fmtDelta(*lead))}, cell(limit(lead))})
	}
	if !slices.ContainsFunc(t.rows, func(row []line) bool { return len(row[3]) > 0 && row[3][0].s != "" }) {
		// No limit crossed and no interval (improvements of counts).
		t.head, t.right = t.head[:3], t.right[:3]
		for i := range t.rows {
			t.rows[i] = t.rows[i][:3]
		}
	}
	blocks := []block{t}
	if shares {
		notes = append([]string{sharesNote}, notes...)
	}
	for i, n := range notes {
		if i == maxNotes {
			blocks = append(blocks, para{l: line{plain("and " + itoa(len(notes)-i) + " more notes in the full report")}, small: true})
			break
		}
		blocks = append(blocks, para{l: line{text(clip(n, 300))}, small: true})
	}
	return &section{key: key, title: title, blocks: blocks}
}

// sharesNote is what a ⚠️ beside a share, rate or coverage means.
const sharesNote = "⚠️ shares, rates and coverage explain a change and never fail alone."

// maxNotes bounds the notes under a causes table.
const maxNotes = 5

// causeMark is a row's emoji: ❌ failed, ⚠️ warned, ⚡ improved.
func causeMark(v compare.Verdict, lead *compare.Metric) string {
	switch {
	case v == compare.Fail:
		return "❌"
	case v == compare.Warn:
		return "⚠️"
	case lead.Improved:
		return "⚡"
	}
	return "✅"
}

// limit is the threshold a metric crossed, with the statistics behind a
// time's verdict: "over 10% · CI +22.5…+22.9%".
func limit(m *compare.Metric) string {
	var parts []string
	want := "fail "
	if m.Verdict == compare.Warn {
		want = "warn "
	}
	for _, t := range strings.Split(m.Threshold, ", ") {
		if strings.HasPrefix(t, want) && !m.Improved {
			parts = append(parts, "over "+strings.TrimPrefix(t, want))
		}
	}
	if m.CI != nil {
		ci := "CI " + fmtPct(m.CI.Lo) + "…" + fmtPct(m.CI.Hi)
		if m.Unit == compare.UnitPct {
			ci = "CI (relative) " + fmtPct(m.CI.Lo) + "…" + fmtPct(m.CI.Hi)
		}
		parts = append(parts, ci)
	}
	return strings.Join(parts, " · ")
}
