package render

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// plan says how much of each section a report shows. The full plan is what
// the HTML page and the terminal get; Markdown trims it step by step (see
// budget.go) until the comment fits.
type plan struct {
	chart       bool // components chart
	kernelRows  int  // rows per kernel-diff table
	regressRows int  // rows of the regressions table
	tableRows   int  // rows of the other metric tables
	detailsFull bool // rules and parse warnings inside the details
	drop        map[string]bool
}

func fullPlan() plan {
	return plan{chart: true, kernelRows: 10, regressRows: 25, tableRows: 20, detailsFull: true, drop: map[string]bool{}}
}

// report is a Result laid out as a document.
type report struct {
	verdict  line   // the one-line verdict
	context  []line // what was compared
	reasons  []line // why not comparable or no baseline, a list
	hint     []line // where to look for warnings
	sections []section
}

// build lays out r under plan p.
func build(r *compare.Result, opts Options, p plan) report {
	rep := report{verdict: verdictLine(r)}
	rep.context, rep.reasons, rep.hint = contextLines(r, opts)
	neutral := r.Verdict == compare.NotComparable || r.Verdict == compare.NoBaseline || r.Verdict == compare.BaselineUnavailable
	add := func(s *section) {
		if s != nil && len(s.blocks) > 0 && !p.drop[s.key] {
			rep.sections = append(rep.sections, *s)
		}
	}
	if neutral {
		add(fingerprintSection(r))
	}
	add(regressionSection(r, p))
	add(attributionSection(r, p))
	add(improvementSection(r, p))
	add(phaseSection(r))
	add(metricSection("gpu", "GPU time and CUDA graphs", inGroups(r.Metrics, "graph", "gpu_time"), p, nil))
	add(bandwidthSection(r, p))
	add(metricSection("serving", "Serving metrics", inGroups(r.Metrics, "extra"), p, nil))
	add(metricSection("devices", "Devices and communication", inGroups(r.Metrics, "device", "communication"), p, nil))
	add(metricSection("other", "Other metrics", otherGroups(r.Metrics), p, nil))
	add(kernelSection(r, p))
	add(componentSection(r, p))
	add(detailsSection(r, opts, p, !neutral))
	return rep
}

// verdictLine is the headline: the verdict, the cause in words with units,
// what improved, and the counts: "❌ **gate: fail** — decode step p50
// +22.7% (1.17 → 1.44 ms); 3 regressions, 1 warning, 40 passed". A
// comparison that was not made says why, the first reason first.
func verdictLine(r *compare.Result) line {
	switch r.Verdict {
	case compare.NotComparable:
		l := line{plain("⚪ "), bold("gate: not comparable"), plain(" — ")}
		if len(r.Reasons) > 0 {
			return append(l, text(clip(r.Reasons[0], maxText)))
		}
		return append(l, plain("not gated: the two profiles were not measured the same way"))
	case compare.NoBaseline:
		return line{plain("⚪ "), bold("gate: no baseline"), plain(" — not gated: there is no baseline to compare with")}
	case compare.BaselineUnavailable:
		return line{plain("⚪ "), bold("gate: baseline unavailable"), plain(" — not gated: the baseline could not be fetched; re-run the job")}
	}
	c := r.Counts
	emoji := strings.Fields(verdictMark(r.Verdict))[0]
	l := line{plain(emoji + " "), bold("gate: " + VerdictWords(r.Verdict)), plain(" — ")}
	if f, ok := cause(r); ok && (c.Fail > 0 || c.Warn > 0) {
		// Name the regression to read first, never an average.
		l = append(append(l, change(f)...), plain("; "))
	}
	if im := improvedLine(r); im != nil {
		l = append(append(l, im...), plain("; "))
	}
	var parts []string
	if c.Fail > 0 {
		parts = append(parts, plural(c.Fail, "regression", "regressions"))
	}
	if c.Warn > 0 {
		parts = append(parts, plural(c.Warn, "warning", "warnings"))
	}
	parts = append(parts, group(fmt.Sprint(c.Pass))+" passed")
	if c.Info > 0 {
		parts = append(parts, group(fmt.Sprint(c.Info))+" not gated")
	}
	return append(l, plain(strings.Join(parts, ", ")))
}

// headline picks the failing metric a reviewer should read first: a step
// time if one failed (what users feel), else any phase metric, else the
// largest change.
func headline(ms []compare.Metric) *compare.Metric {
	var best *compare.Metric
	rank := func(m *compare.Metric) int {
		switch {
		case m.Group == "phase" && strings.Contains(m.Name, ".span."):
			return 0
		case m.Group == "phase":
			return 1
		}
		return 2
	}
	for i := range ms {
		m := &ms[i]
		if m.Verdict != compare.Fail {
			continue
		}
		if best == nil || rank(m) < rank(best) || rank(m) == rank(best) && size(m) > size(best) {
			best = m
		}
	}
	return best
}

// ruleChangeLine reads "fail threshold of `phases.decode.span.p50`: 10% →
// 500% in this PR".
func ruleChangeLine(c compare.RuleChange) line {
	l := line{plain(c.What)}
	if c.Metric != "" {
		l = append(l, plain(" of "), name(compare.DisplayName(c.Metric)))
	}
	if c.Count > 1 {
		l = append(l, plain(" ("+itoa(c.Count)+" metrics)"))
	}
	if c.Base != "" || c.Head != "" {
		l = append(l, plain(": "), text(clip(c.Base, 80)+" → "+clip(c.Head, 80)), plain(" in this PR"))
	}
	return l
}

// maxReasons and maxWarnings bound lists of untrusted text in the header
// and the details.
const (
	maxReasons  = 10
	maxWarnings = 20
	maxText     = 500 // runes of one reason or warning
)

func contextLines(r *compare.Result, opts Options) (context, reasons, hint []line) {
	l := line{plain("Head ")}
	l = append(l, fileName(r.Head)...)
	if g := r.Head.GPU.Name; g != "" {
		l = append(l, plain(" on "), text(clip(g, 80)))
	}
	if (r.Verdict == compare.NoBaseline || r.Verdict == compare.BaselineUnavailable) && r.Base.Source.File == "" {
		l = append(l, plain("; no baseline"))
	} else {
		l = append(l, plain(" vs base "))
		l = append(l, fileName(r.Base)...)
		if g := r.Base.GPU.Name; g != "" && g != r.Head.GPU.Name {
			l = append(l, plain(" on "), text(clip(g, 80)))
		}
	}
	if c := baselineCommit(r, opts); c != "" && r.Baseline == "" {
		l = append(l, plain(" · baseline commit "), name(clip(c, 40)))
	}
	context = append(context, l)
	if r.Baseline != "" {
		// Where the action found it: the merge base or a branch's newest,
		// with commit, run and age. From result.json in the comment mode, so
		// untrusted text like every other string.
		context = append(context, line{plain("Baseline: "), text(clip(r.Baseline, maxText))})
	}
	for i, reason := range r.Reasons {
		if i == maxReasons {
			reasons = append(reasons, line{plain("and " + itoa(len(r.Reasons)-maxReasons) + " more reasons")})
			break
		}
		reasons = append(reasons, line{text(clip(reason, maxText))})
	}
	if len(r.RuleChanges) > 0 {
		context = append(context, line{plain("⚠️ This pull request changes gate's rules; they apply once it is merged. It was judged by the baseline's:")})
		for i, c := range r.RuleChanges {
			if i == maxReasons {
				reasons = append(reasons, line{plain("and " + itoa(len(r.RuleChanges)-maxReasons) + " more rule changes")})
				break
			}
			reasons = append(reasons, ruleChangeLine(c))
		}
	}
	if n := len(r.Warnings) + len(r.Base.Warnings) + len(r.Head.Warnings); n > 0 {
		hint = append(hint, line{plain("⚠️ " + plural(n, "warning", "warnings") + " from parsing or comparing; see the details below.")})
	}
	return context, reasons, hint
}

func fileName(s compare.Side) line {
	if s.Source.File == "" {
		return line{plain("(unnamed)")}
	}
	return line{name(baseName(s.Source.File))}
}

// baseName is the last element of a slash- or backslash-separated path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return p
}

func baselineCommit(r *compare.Result, opts Options) string {
	if opts.BaselineCommit != "" {
		return opts.BaselineCommit
	}
	return r.Base.Source.Commit
}

// regressionSection lists failing then warning metrics, largest change first.
func regressionSection(r *compare.Result, p plan) *section {
	var ms []*compare.Metric
	nf := 0
	for i := range r.Metrics {
		m := &r.Metrics[i]
		if m.Verdict == compare.Fail || m.Verdict == compare.Warn {
			ms = append(ms, m)
		}
		if m.Verdict == compare.Fail {
			nf++
		}
	}
	if len(ms) == 0 {
		return nil
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if severity(a.Verdict) != severity(b.Verdict) {
			return severity(a.Verdict) < severity(b.Verdict)
		}
		return size(a) > size(b)
	})
	if ranked := findings(r, r.Regressions); len(ranked) == len(ms) {
		// compare's ranking: the cause first (see compare.Class).
		for i, f := range ranked {
			ms[i] = f.m
		}
	}
	title := "Regressions"
	switch {
	case nf == 0:
		title = "Warnings"
	case nf < len(ms):
		title = "Regressions and warnings"
	}
	t := table{head: []string{"Metric", "Base", "Head", "Δ", "CI", "Threshold", "Verdict"}, right: []bool{false, true, true, true, false, false, false}}
	for i, m := range ms {
		if i == p.regressRows {
			t.more = len(ms) - i
			break
		}
		b, h := "—", "—"
		if m.HasBase {
			b = fmtValue(m.Base, m.Unit)
		}
		if m.HasHead {
			h = fmtValue(m.Head, m.Unit)
		}
		v := line{plain(verdictMark(m.Verdict))}
		if m.Note != "" {
			v = append(v, plain(" — "), text(clip(m.Note, 200)))
		}
		t.rows = append(t.rows, []line{{name(compare.DisplayName(m.Name))}, cell(b), cell(h), line{bold(fmtDelta(*m))}, cell(fmtCI(*m)), cell(m.Threshold), v})
	}
	return &section{key: "regressions", title: title, blocks: []block{t}}
}

// size is how large a change is, for ordering: relative where possible.
func size(m *compare.Metric) float64 {
	var v float64
	switch {
	case m.Unit == "pct":
		v = m.Delta
	case m.Base != 0:
		v = m.DeltaPct
	default:
		v = m.Delta
	}
	if math.IsNaN(v) {
		return 0
	}
	return math.Abs(v)
}

// metricSection is a plain table of metrics: name, base → head, Δ, verdict.
// extra, when set, adds a column computed from each metric.
func metricSection(key, title string, ms []*compare.Metric, p plan, extra *column) *section {
	if len(ms) == 0 {
		return nil
	}
	t := table{head: []string{"Metric", "Base → Head", "Δ", "Verdict"}, right: []bool{false, true, true, false}}
	if extra != nil {
		t.head = []string{"Metric", "Base → Head", "Δ", extra.head, "Verdict"}
		t.right = []bool{false, true, true, true, false}
	}
	for i, m := range ms {
		if i == p.tableRows {
			t.more = len(ms) - i
			break
		}
		row := []line{{name(compare.DisplayName(m.Name))}, cell(fmtChange(*m)), cell(fmtDelta(*m))}
		if extra != nil {
			row = append(row, cell(extra.value(m)))
		}
		v := line{plain(verdictMark(m.Verdict))}
		if m.Note != "" {
			v = append(v, plain(" — "), text(clip(m.Note, 200)))
		}
		row = append(row, v)
		t.rows = append(t.rows, row)
	}
	return &section{key: key, title: title, blocks: []block{t}}
}

// column is an extra column of a metric table.
type column struct {
	head  string
	value func(*compare.Metric) string
}

// bandwidthSection shows the DRAM traffic the GPU's sampled counters
// measured per phase (sampled.go), memory traffic per operation and
// direction and, when Nsight Compute measured it, DRAM bandwidth per
// kernel, with rates as a share of the GPU's peak DRAM bandwidth.
func bandwidthSection(r *compare.Result, p plan) *section {
	mem, bw := inGroups(r.Metrics, "memory"), inGroups(r.Metrics, "bandwidth")
	peakB, peakH := r.Base.GPU.PeakBandwidth, r.Head.GPU.PeakBandwidth
	sampled := sampledBlocks(r, peakB, peakH)
	if len(mem)+len(bw)+len(sampled) == 0 {
		return nil
	}
	s := &section{key: "bandwidth", title: "Bandwidth"}
	switch {
	case peakB > 0 && peakH > 0 && peakB != peakH:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth: " + fmtValue(peakB, "bps") + " (base), " + fmtValue(peakH, "bps") + " (head).")}})
	case peakH > 0 || peakB > 0:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth: " + fmtValue(max(peakB, peakH), "bps") + ".")}})
	default:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth unknown: % of peak not shown.")}})
	}
	s.blocks = append(s.blocks, sampled...)
	var rest []*compare.Metric
	if len(mem) > 0 {
		rows, other := pivotMetrics(mem, 2, "count", "bytes", "gbps")
		rest = append(rest, other...)
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if x, y := severity(a.worst), severity(b.worst); x != y {
				return x < y
			}
			if a.parts[0] != b.parts[0] {
				return a.parts[0] < b.parts[0] // memcpy before memset
			}
			return dirRank(a.parts[1]) < dirRank(b.parts[1])
		})
		t := table{head: []string{"Operation", "Count (base → head)", "Bytes (base → head)", "Rate (base → head)", "Δ rate", "% of peak", "Verdict"},
			right: []bool{false, true, true, true, true, true, false}}
		for i, row := range rows {
			if i == p.tableRows {
				t.more = len(rows) - i
				break
			}
			op := row.parts[0]
			if d := row.parts[1]; d != "" && d != "_" {
				op += " " + d
			}
			t.rows = append(t.rows, []line{cell(op), cell(row.change("count")), cell(row.change("bytes")), cell(row.change("gbps")),
				row.delta("gbps"), cell(ofPeak(row.fields["gbps"], peakB, peakH)), row.verdict("gbps", "count", "bytes")})
		}
		s.blocks = append(s.blocks, t)
	}
	if len(bw) > 0 {
		rows, other := pivotMetrics(bw, 1, "gbps", "pct_peak", "bytes")
		rest = append(rest, other...)
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if x, y := severity(a.worst), severity(b.worst); x != y {
				return x < y
			}
			return headOf(a.fields["gbps"]) > headOf(b.fields["gbps"])
		})
		t := table{head: []string{"Kernel (Nsight Compute)", "DRAM bytes/launch (base → head)", "Δ bytes", "DRAM rate (base → head)", "Δ rate", "% of peak", "Verdict"},
			right: []bool{false, true, true, true, true, true, false}}
		for i, row := range rows {
			if i == p.tableRows {
				t.more = len(rows) - i
				break
			}
			pct := row.change("pct_peak")
			if pct == "" {
				pct = ofPeak(row.fields["gbps"], peakB, peakH)
			}
			t.rows = append(t.rows, []line{{name(row.parts[0])}, cell(row.change("bytes")), row.delta("bytes"),
				cell(row.change("gbps")), row.delta("gbps"), cell(pct), row.verdict("bytes", "gbps", "pct_peak")})
		}
		s.blocks = append(s.blocks, t)
	}
	if o := metricSection("", "", rest, p, nil); o != nil {
		s.blocks = append(s.blocks, o.blocks...)
	}
	return s
}

// ofPeak is a rate as a share of peak DRAM bandwidth, base → head.
func ofPeak(m *compare.Metric, peakB, peakH float64) string {
	if m == nil || m.Unit != "bps" {
		return ""
	}
	b, h := "—", "—"
	if m.HasBase && peakB > 0 {
		b = sig3(m.Base/peakB*100) + "%"
	}
	if m.HasHead && peakH > 0 {
		h = sig3(m.Head/peakH*100) + "%"
	}
	if b == "—" && h == "—" {
		return ""
	}
	return b + " → " + h
}

// dirRank orders copy directions as Nsight Systems lists them.
func dirRank(d string) int {
	for i, k := range []string{"HtoD", "DtoH", "DtoD", "HtoH", "PtoP"} {
		if d == k {
			return i
		}
	}
	return 99
}

func headOf(m *compare.Metric) float64 {
	if m == nil || math.IsNaN(m.Head) {
		return 0
	}
	return m.Head
}
