package render

import (
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// cuts are the ways a report is shortened to fit its budget, least important
// first. Each is applied on top of the ones before it.
var cuts = []struct {
	what  string
	apply func(*plan)
}{
	{"the rules and parse warnings", func(p *plan) { p.detailsFull = false }},
	{"rows of long tables", func(p *plan) { p.tableRows = 5; p.kernelRows = 3 }},
	{"the details", func(p *plan) { p.drop["details"] = true }},
	{"the kernel set", func(p *plan) { p.drop["kernels"] = true }},
	{"the GPU counters", func(p *plan) { p.drop["sampled"] = true }},
	{"the key numbers", func(p *plan) { p.drop["phases"] = true }},
	{"the improvements", func(p *plan) { p.drop["improvements"] = true }},
	{"where the time went", func(p *plan) { p.drop["attribution"] = true }},
	{"the warnings", func(p *plan) { p.drop["warnings"] = true }},
	{"the fingerprints", func(p *plan) { p.drop["fingerprint"] = true }},
	{"regression rows", func(p *plan) { p.regressRows = 5 }},
}

// markdown renders r for GitHub within opts.Budget.
func markdown(r *compare.Result, opts Options) string {
	budget := opts.Budget
	if budget <= 0 {
		budget = CommentBudget
	}
	p := commentPlan()
	out := mdString(r, opts, p, nil, budget)
	if UTF16Len(out) <= budget {
		return out
	}
	var cut []string
	for _, c := range cuts {
		c.apply(&p)
		shorter := mdString(r, opts, p, nil, budget)
		if shorter == out {
			continue // nothing of that kind in this report
		}
		out = shorter
		cut = append(cut, c.what)
		if full := mdString(r, opts, p, cut, budget); UTF16Len(full) <= budget {
			return full
		}
	}
	return truncate(mdString(r, opts, p, cut, budget), budget, opts)
}

// mdString is the comment under plan p, with a note on what was cut.
func mdString(r *compare.Result, opts Options, p plan, cut []string, budget int) string {
	w := &mdWriter{to: forGitHub}
	w.b.WriteString(Marker(r.ConfigID) + "\n")
	rep := build(r, opts, p)
	w.report(rep)
	if len(cut) > 0 {
		w.b.WriteString(cutNote(cut, budget, opts) + "\n")
	}
	return w.b.String()
}

// cutNote says what was left out to fit and where the rest is.
func cutNote(cut []string, budget int, opts Options) string {
	s := "✂️ Shortened to fit the " + itoa(budget) + "-character limit; left out: " + strings.Join(cut, ", ") + "."
	if u := safeURL(opts.FullReportURL); u != "" {
		s += " See the [full report](<" + u + ">)."
	} else {
		s += " The full report is in the job's artifacts."
	}
	return s
}

// truncate is the last resort when even the shortest plan is over budget
// (huge reasons or names): cut at a line boundary and say so.
func truncate(s string, budget int, opts Options) string {
	note := "\n\n" + cutNote([]string{"the end of the report"}, budget, opts) + "\n"
	limit := budget - UTF16Len(note)
	if limit <= 0 {
		return UTF16Prefix(s, budget)
	}
	s = UTF16Prefix(s, limit)
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	// Close what a cut could leave open, so the note renders as text.
	if strings.Count(s, "<details>") > strings.Count(s, "</details>") && UTF16Len(s)+len("\n</details>") <= limit {
		s += "\n</details>"
	}
	return s + note
}

// UTF16Prefix returns the longest prefix of s of at most n UTF-16 code units,
// cut on a rune boundary.
func UTF16Prefix(s string, n int) string {
	used := 0
	for i, r := range s {
		l := 1
		if r > 0xFFFF {
			l = 2
		}
		if used+l > n {
			return s[:i]
		}
		used += l
	}
	return s
}
