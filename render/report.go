package render

import (
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// plan says how much of each section a report shows. The full plan is what
// the HTML page gets: every metric. The comment plan is the PR comment and
// the terminal: one row per cause, the key numbers, the details folded;
// Markdown trims it step by step (see budget.go) until the comment fits.
type plan struct {
	comment     bool // the short layout: causes, key numbers, folded details
	terminal    bool // written for a terminal (no link to a full report)
	chart       bool // charts (HTML only)
	kernelRows  int  // rows per kernel-diff table
	regressRows int  // rows of the regressions table
	tableRows   int  // rows of the other tables
	detailsFull bool // rules and parse warnings inside the details
	drop        map[string]bool
	names       names // the report's short kernel names
}

func fullPlan() plan {
	return plan{chart: true, kernelRows: 10, regressRows: 25, tableRows: 20, detailsFull: true, drop: map[string]bool{}}
}

// commentPlan is the PR comment's layout before any budget cut.
func commentPlan() plan {
	p := fullPlan()
	p.comment, p.chart = true, false
	return p
}

// report is a Result laid out as a document.
type report struct {
	verdict  line   // the verdict and its cause in one sentence
	context  []line // where the baseline came from, what was compared, links
	reasons  []line // why not comparable or no baseline, a list
	hint     []line // where to look for warnings
	sections []section
}

// build lays out r under plan p.
func build(r *compare.Result, opts Options, p plan) report {
	p.names = newNames(kernelNames(r))
	rep := report{verdict: verdictLine(r, p)}
	rep.context, rep.reasons, rep.hint = contextLines(r, opts, p)
	neutral := judgedNothing(r.Verdict)
	add := func(s *section) {
		if s != nil && len(s.blocks) > 0 && !p.drop[s.key] {
			rep.sections = append(rep.sections, *s)
		}
	}
	if neutral {
		add(fingerprintSection(r, p))
	}
	for _, s := range causeSections(r, p) {
		add(s)
	}
	if p.comment && r.Verdict == compare.Pass {
		// A pass is short: the key numbers, what improved and why.
		add(phaseSection(r, p))
		add(improvementSection(r, p))
		add(attributionSection(r, p))
		add(sampledSection(r))
		add(kernelNews(r, p))
		add(detailsSection(r, opts, p, !neutral, rep.sections))
		return rep
	}
	add(attributionSection(r, p))
	add(improvementSection(r, p))
	if p.comment {
		add(sampledSection(r))
		add(kernelNews(r, p))
		add(phaseSection(r, p))
		add(detailsSection(r, opts, p, !neutral, rep.sections))
		return rep
	}
	add(phaseSection(r, p))
	add(stepChartSection(r, p))
	add(metricSection("gpu", "GPU time and CUDA graphs", inGroups(r.Metrics, "graph", "gpu_time"), p, nil))
	add(bandwidthSection(r, p))
	add(metricSection("serving", "Serving metrics", inGroups(r.Metrics, "extra"), p, nil))
	add(metricSection("devices", "Devices and communication", inGroups(r.Metrics, "device", "communication"), p, nil))
	add(metricSection("other", "Other metrics", otherGroups(r.Metrics), p, nil))
	add(kernelSection(r, p))
	add(componentSection(r, p))
	add(detailsSection(r, opts, p, !neutral, rep.sections))
	return rep
}

// verdictLine is the headline: the verdict, then the cause in one sentence
// with units and, for a phase's time, the kernel that moved it most:
// "❌ **gate: fail** — decode step p50 1.17 → 1.44 ms (+22.7%):
// `cudnn…sdpa_sm80_flash_fprop…` (attention) launches per decode step
// 8 → 16, +183 µs per step". An improvement is said the same way; a
// comparison that was not made says why, the first reason first.
func verdictLine(r *compare.Result, p plan) line {
	switch r.Verdict {
	case compare.NotComparable:
		l := line{plain("⚪ "), bold("gate: not comparable"), plain(" — ")}
		if len(r.Reasons) > 0 {
			return append(l, text(clip(r.Reasons[0], maxText)))
		}
		return append(l, plain("the two profiles were not measured the same way, so nothing was judged"))
	case compare.NoBaseline:
		return line{plain("⚪ "), bold("gate: no baseline"), plain(" — nothing was judged: there is no baseline to compare with")}
	case compare.BaselineUnavailable:
		return line{plain("⚪ "), bold("gate: baseline unavailable"), plain(" — nothing was judged: the baseline could not be fetched; re-run the job")}
	}
	c := r.Counts
	l := line{plain(verdictIcon(r.Verdict) + " "), bold("gate: " + VerdictWords(r.Verdict)), plain(" — ")}
	if f, ok := cause(r); ok && (c.Fail > 0 || c.Warn > 0) {
		// Name the regression to read first, never an average.
		return append(append(l, change(f, p)...), attributionWords(r, f.m, p)...)
	}
	if fs := findings(r, r.Improvements); len(fs) > 0 {
		l = append(append(append(l, plain("improved: ")), change(fs[0], p)...), attributionWords(r, fs[0].m, p)...)
		if len(fs) > 1 {
			l = append(l, plain(" (and "+itoa(len(fs)-1)+" more)"))
		}
		return l
	}
	return append(l, plain("no regression: "+plural(c.Pass, "metric", "metrics")+" within their limits"))
}

// attributionWords says what made a phase's time metric m move: the
// kernel whose time per step moved most with it, from compare's
// attribution (": <kernel> (<component>) launches per <phase> step b → h,
// +Δ per step"), where the phase's kernel time explains at least a quarter
// of m's change; else the change of the phase's step structure that
// regressed with it (": decode · DtoH copies/step 0.021 → 1 (+4,700%)").
// Empty when m is not a phase's time or nothing explains it.
func attributionWords(r *compare.Result, m *compare.Metric, p plan) line {
	s := segments(m.Name)
	if len(s) < 3 || s[0] != "phases" || (s[2] != "span" && s[2] != "busy" && s[2] != "kernel_time") {
		return nil
	}
	for _, a := range r.Attribution {
		moved := a.HeadNs - a.BaseNs
		if a.Phase != s[1] || len(a.Kernels) == 0 || moved*sign(m.Delta) < math.Abs(m.Delta)/4 {
			continue
		}
		top := a.Kernels[0]
		for _, k := range a.Kernels[1:] {
			if (k.HeadNs-k.BaseNs)*sign(moved) > (top.HeadNs-top.BaseNs)*sign(moved) {
				top = k
			}
		}
		d := top.HeadNs - top.BaseNs
		if d*sign(moved) < math.Abs(moved)/10 {
			break
		}
		l := line{plain(": "), p.names.kernel(top.Name)}
		if top.Component != "" {
			l = append(l, plain(" ("), text(clip(top.Component, 40)), plain(")"))
		}
		if top.BaseLaunches != top.HeadLaunches {
			l = append(l, plain(" launches per "), text(clip(compare.PhaseLabel(a.Phase), 40)), plain(" step "+fmtCount(top.BaseLaunches)+" → "+fmtCount(top.HeadLaunches)+","))
		}
		return append(l, plain(" "+signed(d, fmtValue(d, compare.UnitNs))+" per step"))
	}
	// Time the kernels do not explain: a step that now waits (syncs, host
	// copies) or launches more.
	var best *compare.Metric
	bestRank := 0
	for _, f := range findings(r, append(append([]compare.Finding(nil), r.Regressions...), r.Improvements...)) {
		if compare.ClassOf(f.m.Name) != compare.ClassStepStructure || (f.m.Improved != m.Improved) {
			continue
		}
		fs := segments(f.m.Name)
		k := 5 // what is not a phase's: launches outside CUDA graphs
		if fs[0] == "phases" {
			if fs[1] != s[1] {
				continue
			}
			k = map[string]int{"syncs": 0, "dtoh": 1, "kernels": 2}[fs[2]]
			if k == 0 && fs[2] != "syncs" {
				k = 3
			}
		}
		if best == nil || k < bestRank {
			best, bestRank = f.m, k
		}
	}
	if best == nil {
		return nil
	}
	_, title, field := entity(best, p.names)
	if segments(best.Name)[0] == "phases" {
		title = nil // the same phase as m: said once
	}
	l := append(line{plain(": ")}, title...)
	return append(l, text(clip(field, maxName)), plain(" "), text(shortChange(*best)), plain(" ("), text(fmtDelta(*best)), plain(")"))
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
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

// contextLines are where the baseline came from (in the action's words,
// Result.Baseline: which commit, branch, run and how old; else the commit),
// what was compared, and the link to the full report.
func contextLines(r *compare.Result, opts Options, p plan) (context, reasons, hint []line) {
	var l line
	switch c := baselineCommit(r, opts); {
	case r.Baseline != "":
		// From result.json in the comment mode, so untrusted text like
		// every other string.
		l = append(l, plain("Baseline: "), text(clip(r.Baseline, maxText)), plain(" · "))
	case c != "":
		l = append(l, plain("Baseline "), name(shortCommit(c)), plain(" · "))
	}
	if len(l) == 0 {
		l = append(l, plain("Head "))
	} else {
		l = append(l, plain("head "))
	}
	l = append(l, fileName(r.Head)...)
	if (r.Verdict == compare.NoBaseline || r.Verdict == compare.BaselineUnavailable) && r.Base.Source.File == "" {
		l = append(l, plain(", no baseline"))
	} else {
		l = append(l, plain(" vs base "))
		l = append(l, fileName(r.Base)...)
	}
	if g := r.Head.GPU.Name; g != "" {
		l = append(l, plain(" on "), text(clip(g, 80)))
	}
	if g := r.Base.GPU.Name; g != "" && g != r.Head.GPU.Name {
		l = append(l, plain(" (base on "), text(clip(g, 80)), plain(")"))
	}
	if u := safeURL(opts.FullReportURL); u != "" && !p.terminal {
		l = append(l, plain(" · [full report and run](<"+u+">)"))
	}
	context = append(context, l)
	rs := r.Reasons
	if r.Verdict == compare.NotComparable && len(rs) == 1 {
		rs = nil // the verdict line says it
	}
	for i, reason := range rs {
		if i == maxReasons {
			reasons = append(reasons, line{plain("and " + itoa(len(rs)-maxReasons) + " more reasons")})
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

// shortCommit is a commit hash's first 12 digits, as GitHub shows one;
// anything else is clipped.
func shortCommit(c string) string {
	if len(c) > 12 && strings.Trim(c, "0123456789abcdef") == "" {
		return c[:12]
	}
	return clip(c, 40)
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
	linkB, linkH := pcieOf(r.Base.GPU), pcieOf(r.Head.GPU)
	switch {
	case peakB > 0 && peakH > 0 && peakB != peakH:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth: " + fmtValue(peakB, "bps") + " (base), " + fmtValue(peakH, "bps") + " (head)." + hostCopies(linkB, linkH))}})
	case peakH > 0 || peakB > 0:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth: " + fmtValue(max(peakB, peakH), "bps") + "." + hostCopies(linkB, linkH))}})
	default:
		s.blocks = append(s.blocks, para{l: line{plain("Peak DRAM bandwidth unknown: % of peak not shown." + hostCopies(linkB, linkH))}})
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
		t := table{head: []string{"Operation", "Count (base → head)", "Bytes (base → head)", "Rate (base → head)", "Δ rate", "% of peak (DRAM; PCIe for host copies)", "Verdict"},
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
				row.delta("gbps"), cell(copyOfPeak(row.parts, row.fields["gbps"], peakB, peakH, linkB, linkH)), row.verdict("gbps", "count", "bytes")})
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
			t.rows = append(t.rows, []line{{p.names.kernel(row.parts[0])}, cell(row.change("bytes")), row.delta("bytes"),
				cell(row.change("gbps")), row.delta("gbps"), cell(pct), row.verdict("bytes", "gbps", "pct_peak")})
		}
		s.blocks = append(s.blocks, t)
	}
	if o := metricSection("", "", rest, p, nil); o != nil {
		s.blocks = append(s.blocks, o.blocks...)
	}
	return s
}

// hostCopies says what host copies are measured against: the PCIe link's
// peak where NVML read it at profile time, else nothing (the link may be
// PCIe or NVLink-C2C, and DRAM's peak does not bound it).
func hostCopies(linkB, linkH float64) string {
	if linkB > 0 || linkH > 0 {
		return " Copies to and from the host are shown against the PCIe link's peak (" + fmtValue(max(linkB, linkH), "bps") + " per direction, from NVML)."
	}
	return " Copies to and from the host cross PCIe or NVLink-C2C, not DRAM alone, and this profile does not say that link's peak: they get no percentage."
}

// pcieOf is the host link's peak a profile's NVML reading recorded, or 0.
func pcieOf(g parse.GPU) float64 {
	if g.NVML == nil {
		return 0
	}
	return g.NVML.PCIeBandwidth
}

// copyOfPeak is a copy's rate as a share of what bounds it: peak DRAM
// bandwidth for device-to-device copies and memsets, the PCIe link's peak
// for host copies where it is known; "" otherwise.
func copyOfPeak(parts []string, m *compare.Metric, peakB, peakH, linkB, linkH float64) string {
	switch op, dir := parts[0], parts[1]; {
	case op == "memset" || dir == "DtoD":
		return ofPeak(m, peakB, peakH)
	case dir == "HtoD" || dir == "DtoH":
		return ofPeak(m, linkB, linkH)
	}
	return ""
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
