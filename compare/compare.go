package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// Options configure a comparison.
type Options struct {
	// Rules are the user's rules; they take precedence over the defaults (defaults.go).
	Rules []Rule
	// KernelShare is the share of kernel time (0..1) above which a single
	// kernel is gated; smaller kernels are informational. Zero means the
	// default, 2%. It is measured as the kernel's share of all kernel time in
	// the window (parse.Kernel.Share), the larger of base and head, so a
	// kernel that grows past the share on either side is gated.
	KernelShare float64
	// ConfigID names the configuration (keys the sticky comment).
	ConfigID string
	// GroupBy, when GroupByBatch, compares decode steps of each batch size
	// on their own (phases.decode@16.*), so that a change of the load's
	// batch mix does not read as a change of step time; BatchBuckets
	// (ascending upper bounds) pool sizes, nil keeps every size apart.
	GroupBy      string
	BatchBuckets []int
}

// Compare judges head against base. A nil base gives NoBaseline (head's
// metrics are listed as info); summaries that differ in GPU, device count,
// trace mode, nsys major version or scope, or whose head lacks what the base
// measured (Blind), give NotComparable.
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
	g := grouping{by: opts.GroupBy, buckets: opts.BatchBuckets}
	r.Head = side(head)
	hs, dropped := flatten(head, g)
	r.Warnings = append(r.Warnings, sideNotes("head", dropped)...)
	if base == nil {
		return noBaseline(r, head, hs, share)
	}
	r.Base = side(base)
	bs, dropped := flatten(base, g)
	r.Warnings = append(r.Warnings, sideNotes("base", dropped)...)

	reasons, unchecked := parse.Comparable(base, head)
	reasons = append(reasons, blind(base, head)...)
	r.Warnings = append(r.Warnings, provenanceWarnings(base, head, unchecked)...)
	r.Warnings = append(r.Warnings, stepWarnings(base, head)...)

	diff, _ := diffKernels(base.Kernels, head.Kernels)
	r.Kernels = diff
	bs = append(bs, kernelSetEntries(diff, base, head, share, false)...)
	hs = append(hs, kernelSetEntries(diff, base, head, share, true)...)
	var fams []*family
	r.Metrics, fams = judgeAll(bs, hs, rules, share)
	if base.Source.Legacy || head.Source.Legacy {
		legacyKernelSet(r.Metrics)
	}
	explainCompositional(r.Metrics, fams)
	r.Warnings = append(r.Warnings, groupWarnings(base, head, r.Metrics, g)...)
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
			r.Metrics[i].Improved = false
		}
		r.Counts = tally(r.Metrics)
		r.Sampling = sampling(base, head, r.Metrics)
		return r
	}
	r.Counts = tally(r.Metrics)
	r.Verdict = verdictOf(r.Counts)
	r.Regressions, r.Improvements = findings(r.Metrics, fams, rules)
	r.Attribution = attribute(base, head, r.Metrics)
	r.Sampling = sampling(base, head, r.Metrics)
	r.Steps = stepSpans(base, head)
	return r
}

// noBaseline lists head's metrics as info.
func noBaseline(r *Result, head *parse.Summary, hs []entry, share float64) *Result {
	r.Verdict = NoBaseline
	r.Reasons = []string{"no baseline summary to compare with"}
	for i := range hs {
		m := judge(nil, &hs[i], nil, share)
		m.Note = ""
		r.Metrics = append(r.Metrics, m)
	}
	r.Counts = tally(r.Metrics)
	r.Sampling = sampling(nil, head, r.Metrics)
	return r
}

func side(s *parse.Summary) Side {
	return Side{Source: s.Source, GPU: s.GPU, Warnings: append([]parse.Warning(nil), s.Warnings...)}
}

// sideNotes prefixes what flatten dropped with the side it came from.
func sideNotes(which string, notes []string) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = which + ": " + n
	}
	return out
}

// provenanceWarnings says what could not be checked for comparability, and
// that legacy summaries are compared without samples.
func provenanceWarnings(base, head *parse.Summary, unchecked []string) []string {
	var ws []string
	if len(unchecked) > 0 {
		ws = append(ws, "not checked for comparability (one side does not record it): "+strings.Join(unchecked, ", "))
	}
	if base.Source.Legacy {
		ws = append(ws, "base is a legacy summary.json: no per-step samples, times are compared as p50 values")
	}
	if head.Source.Legacy {
		ws = append(ws, "head is a legacy summary.json: no per-step samples, times are compared as p50 values")
	}
	return ws
}

// stepWarnings notes phases only the head has and step counts that differ
// without collapsing (a collapse is Blind's).
func stepWarnings(base, head *parse.Summary) []string {
	var ws []string
	for _, pn := range phaseNames(head.Phases) {
		bp, hp := base.Phases[pn], head.Phases[pn]
		switch {
		case bp == nil && hp != nil && hp.Steps > 0:
			ws = append(ws, fmt.Sprintf("%s steps only in head (%d): check the step patterns and the workload", pn, hp.Steps))
		case bp != nil && hp != nil && bp.Steps != hp.Steps:
			ws = append(ws, fmt.Sprintf("%s step count differs: base %d, head %d: the workloads may differ", pn, bp.Steps, hp.Steps))
		}
	}
	return ws
}

// legacyKernelSet makes the kernel set informational: a legacy summary lists
// only its top kernels, so the rest would look added or removed.
func legacyKernelSet(ms []Metric) {
	for i := range ms {
		if strings.HasPrefix(ms[i].Name, "kernel_set.") {
			ms[i].Verdict = Info
			ms[i].Improved = false
			ms[i].Note = "legacy summary.json lists only its top kernels: the kernel set is not judged"
		}
	}
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
		e := entryOf(familyByPattern("kernel_set."+name), "kernel_set."+name, 0)
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

// verdictOf is the worst metric verdict.
func verdictOf(c Counts) Verdict {
	switch {
	case c.Fail > 0:
		return Fail
	case c.Warn > 0:
		return Warn
	}
	return Pass
}
