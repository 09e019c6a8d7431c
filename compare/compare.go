package compare

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// Options configure a comparison.
type Options struct {
	// Rules are the user's rules; they take precedence over DefaultRules.
	Rules []Rule
	// KernelShare is the share of kernel time (0..1) above which a single kernel
	// is gated; smaller kernels are informational. Zero means the default, 2%.
	// It is measured as the kernel's share of all kernel time in the window
	// (parse.Kernel.Share), the larger of base and head, so a kernel that
	// grows past the share on either side is gated.
	KernelShare float64
	// ConfigID names the configuration (keys the sticky comment).
	ConfigID string
}

// Compare judges head against base. A nil base gives NoBaseline (head's
// metrics are listed as info); summaries that differ in GPU, device count,
// trace mode, nsys major version or scope give NotComparable.
func Compare(base, head *parse.Summary, opts Options) *Result {
	share := opts.KernelShare
	if share <= 0 || math.IsNaN(share) {
		share = DefaultKernelShare
	}
	rules, warnings := newRuleSet(opts.Rules)
	r := &Result{
		Schema:   ResultSchema,
		ConfigID: opts.ConfigID,
		Rules:    EffectiveRules(opts.Rules),
		Warnings: warnings,
		Metrics:  []Metric{},
	}
	if head == nil {
		r.Verdict = NotComparable
		r.Reasons = []string{"no head summary"}
		return r
	}
	r.Head = side(head)
	if base == nil {
		r.Verdict = NoBaseline
		r.Reasons = []string{"no baseline summary to compare with"}
		for _, e := range flatten(head) {
			h := e
			m := judge(nil, &h, nil, share)
			m.Note = ""
			r.Metrics = append(r.Metrics, m)
		}
		r.Counts = tally(r.Metrics)
		return r
	}
	r.Base = side(base)

	reasons, unchecked := Comparable(base, head)
	if len(unchecked) > 0 {
		r.Warnings = append(r.Warnings, "not checked for comparability (one side does not record it): "+strings.Join(unchecked, ", "))
	}
	if base.Source.Legacy {
		r.Warnings = append(r.Warnings, "base is a legacy summary.json: no per-step samples, times are compared as p50 values")
	}
	if head.Source.Legacy {
		r.Warnings = append(r.Warnings, "head is a legacy summary.json: no per-step samples, times are compared as p50 values")
	}

	for _, pn := range phaseNames(head.Phases) {
		bp, hp := base.Phases[pn], head.Phases[pn]
		switch {
		case bp == nil && hp != nil && hp.Steps > 0:
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s steps only in head (%d): check the step patterns and the workload", pn, hp.Steps))
		case bp != nil && hp != nil && bp.Steps != hp.Steps:
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s step count differs: base %d, head %d: the workloads may differ", pn, bp.Steps, hp.Steps))
		}
	}
	for _, pn := range phaseNames(base.Phases) {
		if bp := base.Phases[pn]; bp != nil && bp.Steps > 0 && head.Phases[pn] == nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s steps only in base (%d): check the step patterns and the workload", pn, bp.Steps))
		}
	}

	diff, _ := diffKernels(base.Kernels, head.Kernels)
	r.Kernels = diff

	bs, hs := flatten(base), flatten(head)
	bs = append(bs, kernelSetEntries(diff, base, head, share, false)...)
	hs = append(hs, kernelSetEntries(diff, base, head, share, true)...)
	r.Metrics = judgeAll(bs, hs, rules, share)
	if base.Source.Legacy || head.Source.Legacy {
		// A legacy summary lists only its top kernels: the rest would look
		// added or removed.
		for i := range r.Metrics {
			if strings.HasPrefix(r.Metrics[i].Name, "kernel_set.") {
				r.Metrics[i].Verdict = Info
				r.Metrics[i].Note = "legacy summary.json lists only its top kernels: the kernel set is not judged"
			}
		}
	}

	for _, m := range r.Metrics {
		if strings.HasPrefix(m.Note, "rule threshold") {
			r.Warnings = append(r.Warnings, m.Name+": "+m.Note)
		}
	}

	if len(reasons) > 0 {
		r.Verdict = NotComparable
		r.Reasons = reasons
		for i := range r.Metrics {
			r.Metrics[i].Verdict = Info
		}
		r.Counts = tally(r.Metrics)
		return r
	}
	r.Counts = tally(r.Metrics)
	switch {
	case r.Counts.Fail > 0:
		r.Verdict = Fail
	case r.Counts.Warn > 0:
		r.Verdict = Warn
	default:
		r.Verdict = Pass
	}
	return r
}

func side(s *parse.Summary) Side {
	return Side{Source: s.Source, GPU: s.GPU, Warnings: append([]parse.Warning(nil), s.Warnings...)}
}

// kernelSetEntries turns the kernel diff into the kernel_set metrics: how
// many kernels above the kernel share appeared, vanished, or changed variant.
// Base counts are zero; head counts are the changes.
func kernelSetEntries(d KernelDiff, base, head *parse.Summary, share float64, isHead bool) []entry {
	shares := map[string]float64{}
	for _, k := range base.Kernels {
		shares["b\x00"+k.Name] = k.Share
	}
	for _, k := range head.Kernels {
		shares["h\x00"+k.Name] = k.Share
	}
	big := func(c KernelChange) bool {
		return shares["b\x00"+c.Base] >= share || shares["h\x00"+c.Head] >= share
	}
	mk := func(name string, cs []KernelChange) entry {
		e := entry{name: "kernel_set." + name, group: "kernel", unit: "count", kind: Exact, better: "lower", share: -1}
		if !isHead {
			return e
		}
		var names []string
		for _, c := range cs {
			if !big(c) {
				continue
			}
			e.value++
			switch {
			case len(names) == 5:
				names = append(names, "...")
			case len(names) > 5:
			case c.Base != "" && c.Head != "":
				names = append(names, c.Base+" -> "+c.Head)
			case c.Head != "":
				names = append(names, c.Head)
			default:
				names = append(names, c.Base)
			}
		}
		e.note = strings.Join(names, "; ")
		return e
	}
	return []entry{mk("added", d.Added), mk("removed", d.Removed), mk("variants", d.Variant)}
}

// judgeAll pairs base and head entries by name and judges each.
func judgeAll(bs, hs []entry, rules ruleSet, share float64) []Metric {
	bm := make(map[string]*entry, len(bs))
	for i := range bs {
		bm[bs[i].name] = &bs[i]
	}
	hm := make(map[string]*entry, len(hs))
	for i := range hs {
		hm[hs[i].name] = &hs[i]
	}
	type key struct{ group, name string }
	keys := make([]key, 0, len(hs))
	seen := make(map[string]bool, len(hs))
	for _, list := range [][]entry{bs, hs} {
		for _, e := range list {
			if !seen[e.name] {
				seen[e.name] = true
				keys = append(keys, key{e.group, e.name})
			}
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return lessMetric(keys[i].group, keys[i].name, keys[j].group, keys[j].name) })
	out := make([]Metric, 0, len(keys))
	for _, k := range keys {
		rule := rules.find(k.name)
		if rule != nil && rule.Ignore {
			continue
		}
		out = append(out, judge(bm[k.name], hm[k.name], rule, share))
	}
	return out
}

func tally(ms []Metric) Counts {
	var c Counts
	for _, m := range ms {
		switch m.Verdict {
		case Fail:
			c.Fail++
		case Warn:
			c.Warn++
		case Pass:
			c.Pass++
		default:
			c.Info++
		}
	}
	return c
}

// judge compares one metric. b or h may be nil (the metric exists on one
// side only); rule may be nil (no rule matched: info).
func judge(b, h *entry, rule *compiledRule, share float64) Metric {
	e := h
	if e == nil {
		e = b
	}
	m := Metric{Name: e.name, Group: e.group, Unit: e.unit, Kind: e.kind, Better: e.better, Verdict: Info}
	if rule != nil {
		m.Rule = rule.Metric
		if rule.Better != "" {
			m.Better = rule.Better
		}
		if rule.Kind != "" {
			m.Kind = rule.Kind
		}
		m.Threshold = rule.text
	}
	if b != nil {
		m.HasBase, m.Base, m.NBase = true, b.value, len(b.samples)
	}
	if h != nil {
		m.HasHead, m.Head, m.NHead = true, h.value, len(h.samples)
	}
	if b == nil || h == nil {
		// One side only: shown, never gated (kernel_set judges the kernel set).
		if b == nil {
			m.Note = "only in head"
		} else {
			m.Note = "only in base"
		}
		return m
	}

	if m.Better == "" {
		m.Note = "descriptive: no better direction, shown but not gated"
		return m
	}

	var st *statResult
	var notes []string
	if m.Kind == Stat && len(b.samples) > 0 && len(h.samples) > 0 {
		s := compareSamples(b.samples, h.samples)
		st = &s
		m.Base, m.Head = s.baseMedian, s.headMedian
		m.P, m.CI = s.p, s.ci
	} else if m.Kind == Stat && (b.sampled || h.sampled) {
		notes = append(notes, "no per-step samples on "+missingSide(b, h)+": compared p50 values, not distributions")
	}
	m.Delta = m.Head - m.Base
	if m.Base != 0 {
		m.DeltaPct = m.Delta / math.Abs(m.Base) * 100
	}

	if h.note != "" {
		notes = append(notes, h.note)
	}
	if rule == nil || (rule.warn == nil && rule.fail == nil) {
		m.Note = strings.Join(notes, "; ")
		return m
	}
	if e.group == "kernel" && e.share >= 0 {
		ks := e.share
		if b.share > ks {
			ks = b.share
		}
		if ks < share {
			notes = append(notes, fmt.Sprintf("below the kernel share (%.3g%% < %.3g%% of kernel time): not gated", ks*100, share*100))
			m.Note = strings.Join(notes, "; ")
			return m
		}
	}
	for _, t := range []*Threshold{rule.warn, rule.fail, rule.floor} {
		if t != nil && !t.appliesTo(m.Unit) {
			m.Verdict = Warn
			m.Note = fmt.Sprintf("rule threshold %q (rule %q) does not apply to unit %s", t.Text, rule.Metric, unitString(m.Unit))
			return m
		}
	}

	worse := m.Delta
	if m.Better == "higher" {
		worse = -worse
	}
	beyondFail := rule.fail != nil && rule.fail.exceeds(m.Base, worse)
	beyondWarn := beyondFail || rule.warn != nil && rule.warn.exceeds(m.Base, worse)
	noise := rule.floor != nil && !rule.floor.exceeds(m.Base, math.Abs(m.Delta))

	switch {
	case st != nil && len(st.tooFew) > 0:
		// Too few samples for the U test: never pass or fail silently.
		if beyondWarn && !noise {
			m.Verdict = Warn
			notes = append(notes, fmt.Sprintf("too few samples (%d vs %d) to judge a change beyond the threshold: %s", m.NBase, m.NHead, st.tooFewNote()))
		} else {
			m.Verdict = Pass
			notes = append(notes, fmt.Sprintf("too few samples (%d vs %d) for a significance test: %s", m.NBase, m.NHead, st.tooFewNote()))
		}
	case noise:
		m.Verdict = Pass
		if beyondWarn {
			notes = append(notes, "change below the floor "+rule.floor.Text)
		}
	case st != nil && st.p >= Alpha:
		m.Verdict = Pass
		if beyondWarn {
			notes = append(notes, fmt.Sprintf("beyond the threshold but not significant (p=%.3g)", st.p))
		}
	case beyondFail:
		m.Verdict = Fail
	case beyondWarn:
		m.Verdict = Warn
	default:
		m.Verdict = Pass
	}
	m.Note = strings.Join(notes, "; ")
	return m
}

func missingSide(b, h *entry) string {
	switch {
	case len(b.samples) == 0 && len(h.samples) == 0:
		return "either side"
	case len(b.samples) == 0:
		return "base"
	}
	return "head"
}

// thresholdText shows a rule's thresholds: "warn 5%, fail 10%, floor 2us".
func thresholdText(r *compiledRule) string {
	var parts []string
	if r.Warn != "" {
		parts = append(parts, "warn "+r.Warn)
	}
	if r.Fail != "" {
		parts = append(parts, "fail "+r.Fail)
	}
	if r.Floor != "" {
		parts = append(parts, "floor "+r.Floor)
	}
	return strings.Join(parts, ", ")
}
