package render

import (
	"fmt"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// fingerprintSection puts the two profiles' fingerprints side by side,
// marking with ≠ the fields that decide comparability. It is open for a
// not-comparable or no-baseline report (it is the reason) and otherwise
// part of the details.
func fingerprintSection(r *compare.Result, p plan) *section {
	t := fingerprintTable(r)
	if len(t.rows) == 0 {
		return nil
	}
	if p.comment {
		// What both share in a line, what differs in a table.
		return &section{key: "fingerprint", title: "Fingerprints", blocks: fingerprintSummary(r)}
	}
	return &section{key: "fingerprint", title: "Fingerprints", blocks: []block{t}}
}

func fingerprintTable(r *compare.Result) table {
	b, h := r.Base, r.Head
	t := table{head: []string{"", "Base", "Head"}}
	row := func(label string, bv, hv string, decisive bool) {
		if bv == "" && hv == "" {
			return
		}
		if decisive && bv != hv && bv != "" && hv != "" {
			label = "≠ " + label
		}
		t.rows = append(t.rows, []line{cell(label), cell(clip(bv, 80)), cell(clip(hv, 80))})
	}
	nameRow := func(label string, bv, hv string) {
		if bv == "" && hv == "" {
			return
		}
		cellOf := func(v string) line {
			if v == "" {
				return cell("")
			}
			return line{name(v)}
		}
		t.rows = append(t.rows, []line{cell(label), cellOf(bv), cellOf(hv)})
	}
	nameRow("File", baseName(b.Source.File), baseName(h.Source.File))
	row("GPU", b.GPU.Name, h.GPU.Name, true)
	row("Chip", b.GPU.Chip, h.GPU.Chip, false)
	row("SMs", nonzero(b.GPU.SMs), nonzero(h.GPU.SMs), false)
	row("Memory", bytesOrEmpty(b.GPU.MemoryBytes), bytesOrEmpty(h.GPU.MemoryBytes), false)
	row("Peak DRAM bandwidth", bpsOrEmpty(b.GPU.PeakBandwidth), bpsOrEmpty(h.GPU.PeakBandwidth), false)
	row("Devices", nonzero(b.GPU.Devices), nonzero(h.GPU.Devices), true)
	row("Driver", b.GPU.Driver, h.GPU.Driver, false)
	row("CUDA", b.GPU.CUDA, h.GPU.CUDA, false)
	// Only the major version (the year) decides comparability.
	row("Nsight Systems", b.Source.NsysVersion, h.Source.NsysVersion, parse.NsysMajor(b.Source.NsysVersion) != parse.NsysMajor(h.Source.NsysVersion))
	row("Export schema", b.Source.ExportSchema, h.Source.ExportSchema, false)
	row("CUDA graph trace", traceWords(b.Source.TraceMode), traceWords(h.Source.TraceMode), true)
	row("Scope", scope(b.Source), scope(h.Source), true)
	row("Steps found by", stepSource(b.Source), stepSource(h.Source), true)
	row("Profiled time", window(b.Source), window(h.Source), false)
	nameRow("Commit", b.Source.Commit, h.Source.Commit)
	row("gate version", b.Source.GateVersion, h.Source.GateVersion, false)
	row("Legacy summary", yes(b.Source.Legacy), yes(h.Source.Legacy), false)
	row("Clocks (SM / memory)", clocks(b.GPU.NVML), clocks(h.GPU.NVML), false)
	row("Throttle reasons", throttle(b.GPU.NVML), throttle(h.GPU.NVML), false)
	return t
}

// traceWords says how nsys traced CUDA graphs (--cuda-graph-trace).
func traceWords(mode string) string {
	switch mode {
	case "node":
		return "node (each kernel)"
	case "graph":
		return "graph (whole graphs)"
	}
	return mode
}

func nonzero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func bytesOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	// GPU memory is quoted in binary units (nvidia-smi: MiB; "141 GiB").
	return sig3(float64(n)/(1<<30)) + " GiB"
}

func bpsOrEmpty(v float64) string {
	if v == 0 {
		return ""
	}
	return fmtValue(v, "bps")
}

func scope(s parse.Source) string {
	if s.Scope == "" && s.File == "" && s.TraceMode == "" {
		return ""
	}
	if s.Scope == "" {
		return "whole capture"
	}
	return s.Scope
}

// stepSource says how a summary's steps were found; empty where it does not
// record it.
func stepSource(s parse.Source) string {
	if s.StepSource == "" {
		return ""
	}
	return parse.StepSourceName(s.StepSource)
}

func window(s parse.Source) string {
	if s.WindowEndNs <= s.WindowStartNs {
		return ""
	}
	return fmtValue(float64(s.WindowEndNs-s.WindowStartNs), "ns")
}

func yes(b bool) string {
	if b {
		return "yes (no samples: times compared as values)"
	}
	return ""
}

func clocks(n *parse.NVML) string {
	if n == nil || !n.Available || (n.SMClockMHz == 0 && n.MemClockMHz == 0) {
		return ""
	}
	return fmt.Sprintf("%d / %d MHz", n.SMClockMHz, n.MemClockMHz)
}

func throttle(n *parse.NVML) string {
	if n == nil || !n.Available {
		return ""
	}
	if len(n.ThrottleReasons) == 0 {
		return "none"
	}
	return strings.Join(n.ThrottleReasons, ", ")
}

// howMeasured explains the statistics in a few sentences, for reviewers who
// wonder whether a red mark is noise.
var howMeasured = line{plain("How measured: times are per-step samples (one per NVTX step range, projected onto the GPU). " +
	"Base and head samples are compared with a Mann-Whitney U test; CI is the confidence interval of the relative change of the median. " +
	"A time regresses only when the change is significant and larger than its threshold. " +
	"Exact metrics (kernels and copies per step, bytes, CUDA-graph coverage) are compared value to value. " +
	"Single kernels are judged only above a share of kernel time; smaller ones are shown for information.")}

// shortMethod is howMeasured and whatFails in two sentences, for the
// comment (the HTML page has both in full).
var shortMethod = line{plain("How measured: step times are compared step sample against step sample (Mann-Whitney U; CI is the 95% interval of the median's relative change), " +
	"counts per step value to value. Shares, coverage by time and rates explain a change and never fail alone; a new kernel fails through what it costs.")}

// detailsSection folds away what a reviewer reads only when in doubt: the
// kernel names in full, the fingerprints, the method, the rules and parse
// warnings. The comment's is short: the fingerprints that differ, the rules
// that fired. shown are the sections before it, whose shortened kernel
// names it spells out.
func detailsSection(r *compare.Result, opts Options, p plan, withFingerprint bool, shown []section) *section {
	s := &section{key: "details", title: "Details: fingerprints, method, rules, warnings", collapsed: true}
	if p.comment {
		s.title = "Details: fingerprints, method, rules"
		if l := fullNames(shown); len(l.items) > 0 {
			s.title = "Details: kernel names in full, fingerprints, method, rules"
			s.blocks = append(s.blocks, para{l: line{bold("Kernel names in full")}}, l)
		}
		if withFingerprint {
			s.blocks = append(s.blocks, fingerprintSummary(r)...)
		}
		s.blocks = append(s.blocks, para{l: shortMethod})
	} else {
		if t := fingerprintTable(r); withFingerprint && len(t.rows) > 0 {
			s.blocks = append(s.blocks, t)
		}
		if c := baselineCommit(r, opts); c != "" {
			s.blocks = append(s.blocks, para{l: line{plain("Baseline commit: "), name(clip(c, 80))}})
		}
		s.blocks = append(s.blocks, para{l: howMeasured}, para{l: whatFails})
	}
	if r.ConfigID != "" {
		s.blocks = append(s.blocks, para{l: line{plain("Configuration: "), name(clip(r.ConfigID, 100))}})
	}
	if !p.detailsFull {
		return s
	}
	rules := r.Rules
	title := "Rules"
	if p.comment {
		rules, title = firedRules(r), "Rules that fired"
	}
	if len(rules) > 0 {
		t := table{head: []string{"Rule", "Warn", "Fail", "Floor"}}
		if !p.comment {
			t.head = []string{"Rule", "Kind", "Better", "Warn", "Fail", "Floor"}
		}
		for i, ru := range rules {
			if i == maxRules {
				t.more = len(rules) - i
				break
			}
			rule := line{name(ru.Metric)}
			if ru.Ignore {
				rule = append(rule, plain(" (ignored)"))
			}
			if p.comment {
				t.rows = append(t.rows, []line{rule, cell(ru.Warn), cell(ru.Fail), cell(ru.Floor)})
				continue
			}
			better := string(ru.Better)
			if better == "" {
				better = "(metric's)"
			}
			kind := "counts"
			if ru.Kind == compare.Stat {
				kind = "samples"
			}
			t.rows = append(t.rows, []line{rule, cell(kind), cell(better), cell(ru.Warn), cell(ru.Fail), cell(ru.Floor)})
		}
		s.blocks = append(s.blocks, para{l: line{bold(title)}}, t)
	}
	var ws []line
	addW := func(who string, code, msg string) {
		l := line{plain(who + ": ")}
		if code != "" {
			l = append(l, name(clip(code, 60)), plain(" "))
		}
		ws = append(ws, append(l, text(clip(msg, maxText))))
	}
	for _, w := range r.Base.Warnings {
		addW("base", w.Code, w.Message)
	}
	for _, w := range r.Head.Warnings {
		addW("head", w.Code, w.Message)
	}
	for _, w := range r.Warnings {
		addW("compare", "", w)
	}
	if len(ws) > 0 {
		more := 0
		if len(ws) > maxWarnings {
			more = len(ws) - maxWarnings
			ws = ws[:maxWarnings]
		}
		if more > 0 {
			ws = append(ws, line{plain("and " + itoa(more) + " more")})
		}
		s.blocks = append(s.blocks, para{l: line{bold("Warnings")}}, list{items: ws})
	}
	return s
}

// maxRules bounds the rules table.
const maxRules = 40

// firedRules are the rules that judged a regression or a warning.
func firedRules(r *compare.Result) []compare.Rule {
	used := map[string]bool{}
	for _, m := range r.Metrics {
		if regressed(&m) && m.Rule != "" {
			used[m.Rule] = true
		}
	}
	var out []compare.Rule
	for _, ru := range r.Rules {
		if used[ru.Metric] {
			out = append(out, ru)
			used[ru.Metric] = false
		}
	}
	return out
}

// fullNames lists the kernel names that sections show shortened, each
// with its full name.
func fullNames(sections []section) list {
	var l list
	seen := map[string]bool{}
	var visit func(bs []block)
	spans := func(ln line) {
		for _, s := range ln {
			if s.kind == kern && s.s != s.full && !seen[s.full] {
				seen[s.full] = true
				l.items = append(l.items, line{name(s.s), plain(": "), wholeName(s.full)})
			}
		}
	}
	visit = func(bs []block) {
		for _, b := range bs {
			switch b := b.(type) {
			case para:
				spans(b.l)
			case list:
				for _, it := range b.items {
					spans(it)
				}
			case table:
				for _, row := range b.rows {
					for _, c := range row {
						spans(c)
					}
				}
			case fold:
				visit(b.blocks)
			}
		}
	}
	for _, s := range sections {
		visit(s.blocks)
	}
	if len(l.items) > maxNames {
		more := len(l.items) - maxNames
		l.items = append(l.items[:maxNames], line{plain("and " + itoa(more) + " more in the full report")})
	}
	return l
}

// maxNames bounds the list of names in full.
const maxNames = 20

// inSummary are the fingerprint rows the comment's summary names: what
// decides comparability and what a reviewer checks first.
var inSummary = map[string]bool{"GPU": true, "Devices": true, "Driver": true, "CUDA": true, "Nsight Systems": true,
	"CUDA graph trace": true, "Scope": true, "Steps found by": true, "Profiled time": true, "Clocks (SM / memory)": true, "Throttle reasons": true}

// fingerprintSummary says in one line what both profiles share and, in a
// table, only what differs.
func fingerprintSummary(r *compare.Result) []block {
	t := fingerprintTable(r)
	same := line{plain("Both: ")}
	diff := table{head: t.head}
	n := 0
	for _, row := range t.rows {
		if len(row) < 3 {
			continue
		}
		label := strings.TrimPrefix(textLine(row[0]), "≠ ")
		if !inSummary[label] {
			continue
		}
		if textLine(row[1]) == textLine(row[2]) {
			if n > 0 {
				same = append(same, plain(", "))
			}
			same = append(same, row[0]...)
			same = append(same, plain(" "))
			same = append(same, row[1]...)
			n++
			continue
		}
		diff.rows = append(diff.rows, row)
	}
	var out []block
	if n > 0 {
		out = append(out, para{l: same})
	}
	if len(diff.rows) > 0 {
		out = append(out, diff)
	}
	return out
}
