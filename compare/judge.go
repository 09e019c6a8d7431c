package compare

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// judgeAll pairs base and head entries by name and judges each. It returns
// the metrics in Result order and, beside them, each metric's family.
func judgeAll(bs, hs []entry, rules ruleSet, share float64) ([]Metric, []*family) {
	bm := make(map[string]*entry, len(bs))
	for i := range bs {
		bm[bs[i].name] = &bs[i]
	}
	hm := make(map[string]*entry, len(hs))
	for i := range hs {
		hm[hs[i].name] = &hs[i]
	}
	type key struct {
		group Group
		name  string
	}
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
	fams := make([]*family, 0, len(keys))
	for _, k := range keys {
		rule := rules.find(k.name)
		if rule != nil && rule.Ignore {
			continue
		}
		b, h := bm[k.name], hm[k.name]
		out = append(out, judge(b, h, rule, share))
		if h != nil {
			fams = append(fams, h.fam)
		} else {
			fams = append(fams, b.fam)
		}
	}
	return out, fams
}

// judge compares one metric. b or h may be nil (the metric exists on one
// side only); rule may be nil (no rule matched: info).
func judge(b, h *entry, rule *compiledRule, share float64) Metric {
	m := describe(b, h, rule)
	if b == nil || h == nil {
		// One side only: shown, never gated (kernel_set judges the kernel
		// set, Blind what the head lost).
		m.Note = "only in head"
		if h == nil {
			m.Note = "only in base"
		}
		return m
	}
	st, notes := measure(&m, b, h)
	if m.Better == Descriptive {
		m.Note = "descriptive: no better direction, shown but not gated"
		return m
	}
	if m.Unit == UnitMode && m.Delta != 0 {
		notes = append(notes, "CUDA-graph mode "+GraphModeLabel(m.Base)+" → "+GraphModeLabel(m.Head))
	}
	if h.note != "" {
		notes = append(notes, h.note)
	}
	switch {
	case rule == nil || rule.warn == nil && rule.fail == nil:
		// Informational.
	case b.ungated != "":
		notes = append(notes, b.ungated)
	case h.group == GroupKernel && h.share >= 0 && max(h.share, b.share) < share:
		notes = append(notes, fmt.Sprintf("below the kernel share (%.3g%% < %.3g%% of kernel time): not gated", max(h.share, b.share)*100, share*100))
	default:
		if t := misfit(rule, m.Unit); t != nil {
			m.Verdict = Warn
			m.Note = fmt.Sprintf("rule threshold %q (rule %q) does not apply to unit %s", t.Text, rule.Metric, unitString(m.Unit))
			return m
		}
		m.Verdict, notes = decide(m, st, rule, notes)
		m.Improved = improved(m, st, rule)
	}
	m.Note = strings.Join(notes, "; ")
	return m
}

// describe fills a metric's identity, the rule that applies and the values
// of the sides present.
func describe(b, h *entry, rule *compiledRule) Metric {
	e := h
	if e == nil {
		e = b
	}
	m := Metric{Name: e.name, Group: e.group, Unit: e.unit, Kind: e.kind, Better: e.better, Verdict: Info}
	if rule != nil {
		m.Rule = rule.Metric
		if rule.Better != Descriptive {
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
	return m
}

// measure sets the change: for a stat metric with samples on both sides the
// medians, the U test's p and the interval; otherwise value to value.
func measure(m *Metric, b, h *entry) (*statResult, []string) {
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
	return st, notes
}

// misfit returns the first threshold of rule that cannot measure unit, or
// nil. Rules are checked against the vocabulary when they are compiled; this
// catches the units only known at compare time (extra metrics).
func misfit(rule *compiledRule, unit Unit) *Threshold {
	for _, t := range []*Threshold{rule.warn, rule.fail, rule.floor} {
		if t != nil && !t.appliesTo(unit) {
			return t
		}
	}
	return nil
}

// worse is the change in the direction that costs more (positive when the
// metric got worse).
func worse(m Metric) float64 {
	if m.Better == Higher {
		return -m.Delta
	}
	return m.Delta
}

// decide is the verdict of a metric with both sides, a direction and
// thresholds: beyond fail fails, beyond warn warns, unless the change is
// below the floor, not significant, or the samples are too few to tell.
func decide(m Metric, st *statResult, rule *compiledRule, notes []string) (Verdict, []string) {
	w := worse(m)
	beyondFail := rule.fail != nil && rule.fail.exceeds(m.Base, w)
	beyondWarn := beyondFail || rule.warn != nil && rule.warn.exceeds(m.Base, w)
	noise := rule.floor != nil && !rule.floor.exceeds(m.Base, math.Abs(m.Delta))
	switch {
	case st != nil && len(st.tooFew) > 0:
		// Too few samples for the U test: never pass or fail silently.
		// A change beyond the fail threshold warns; a smaller one, within
		// what two steps of the same code can differ by, passes with a note.
		if beyondFail && !noise {
			return Warn, append(notes, fmt.Sprintf("too few samples (%d vs %d) to judge a change beyond the fail threshold: %s", m.NBase, m.NHead, st.tooFewNote()))
		}
		return Pass, append(notes, fmt.Sprintf("too few samples (%d vs %d) for a significance test: %s", m.NBase, m.NHead, st.tooFewNote()))
	case noise:
		if beyondWarn {
			notes = append(notes, "change below the floor "+rule.floor.Text)
		}
		return Pass, notes
	case st != nil && st.p >= alpha:
		if beyondWarn {
			notes = append(notes, fmt.Sprintf("beyond the threshold but not significant (p=%.3g)", st.p))
		}
		return Pass, notes
	case beyondFail:
		return Fail, notes
	case beyondWarn:
		return Warn, notes
	}
	return Pass, notes
}

// improved reports whether the metric got better by as much as a change the
// other way would have warned about (or failed, with no warn threshold):
// significant, beyond the floor, with enough samples.
func improved(m Metric, st *statResult, rule *compiledRule) bool {
	t := rule.warn
	if t == nil {
		t = rule.fail
	}
	switch {
	case t == nil:
		return false
	case st != nil && (len(st.tooFew) > 0 || st.p >= alpha):
		return false
	case rule.floor != nil && !rule.floor.exceeds(m.Base, math.Abs(m.Delta)):
		return false
	}
	return t.exceeds(m.Base, -worse(m))
}

// explainCompositional keeps compositional metrics (family.explain) from
// failing: one whose change would fail or warn only warns, and only when an
// absolute metric it stands for (the same component's time, the same
// phase's span) failed too; otherwise it passes with a note. It is never
// an improvement either.
func explainCompositional(ms []Metric, fams []*family) {
	for i := range ms {
		m, f := &ms[i], fams[i]
		if f == nil || !f.compositional() {
			continue
		}
		m.Improved = false
		if m.Verdict != Fail && m.Verdict != Warn {
			continue
		}
		var because []string
		for _, p := range f.explain {
			glob := f.substitute(p, m.Name, false)
			for j := range ms {
				o := &ms[j]
				if o.Verdict == Fail && fams[j] != nil && !fams[j].compositional() && Match(glob, o.Name) {
					because = append(because, Label(o.Name))
				}
			}
		}
		note := "compositional (" + f.why + "): never fails alone"
		if len(because) > 0 {
			m.Verdict = Warn
			note += "; warns beside the failure of " + strings.Join(because, ", ")
		} else {
			m.Verdict = Pass
			note += "; nothing it stands for failed"
		}
		if m.Note != "" {
			note += "; " + m.Note
		}
		m.Note = note
	}
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
