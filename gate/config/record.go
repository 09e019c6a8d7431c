package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/compare"
)

// In a pull request, gate.yml comes from the pull request's own checkout: a
// PR could loosen its own gate (fail: 500%, ignore: true, exit:
// not-comparable: 0) and pass. So the part of gate.yml that judges travels
// with the baseline: gate records it in every summary it writes
// (parse.Summary.Gate), and the action judges a head under the rules its
// baseline recorded, which were merged and reviewed; the head's own rules
// apply once they are merged, and until then the report lists, metric by
// metric, how they would judge differently (Changes).

// Judging is the part of a gate.yml that decides verdicts: the rules, the
// kernel share, the neutral exit codes, how decode steps are grouped
// (grouping can turn a failure into a pass) and the label that accepts a
// failure (a PR that names its own label could accept itself). It is what a
// summary records.
type Judging struct {
	Rules        []compare.Rule `json:"rules"`
	KernelShare  string         `json:"kernel-share,omitempty"`
	Exit         ExitConfig     `json:"exit"`
	GroupBy      string         `json:"group-by,omitempty"`
	BatchBuckets []int          `json:"batch-buckets,omitempty"`
	AcceptLabel  string         `json:"accept-label,omitempty"`
}

// Record is c's judging part as the JSON a summary carries.
func (c *Config) Record() (json.RawMessage, error) {
	j := Judging{Rules: c.Rules, KernelShare: c.KernelShare, Exit: c.Exit, GroupBy: c.GroupBy, BatchBuckets: c.BatchBuckets, AcceptLabel: c.AcceptLabel}
	if j.Rules == nil {
		j.Rules = []compare.Rule{}
	}
	return json.Marshal(j)
}

// WithRecord returns a copy of c whose judging part is the one recorded in
// raw (a summary's Gate field), checked as gate.yml is. name says where the
// record came from, for errors.
func (c *Config) WithRecord(name string, raw json.RawMessage) (*Config, error) {
	var j Judging
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%s: recorded rules: %w", name, err)
	}
	out := *c
	out.Rules, out.KernelShare, out.Exit = j.Rules, j.KernelShare, j.Exit
	out.GroupBy, out.BatchBuckets = j.GroupBy, j.BatchBuckets
	out.AcceptLabel = j.AcceptLabel
	if err := out.validate(); err != nil {
		return nil, fmt.Errorf("%s: recorded rules: %w", name, err)
	}
	return &out, nil
}

// Changes lists how proposed (the head's gate.yml) would judge the metrics
// named differently from applied (the rules that judged them): first the
// kernel share and exit codes, then each threshold, direction, kind or
// ignore that the first matching rule of each sets differently. Metrics that
// change alike under the same pair of rules are one entry, named by the
// proposed rule's glob with their count. At most max entries are listed;
// the rest are counted in one last entry.
func Changes(applied, proposed *Config, metrics []string, max int) []compare.RuleChange {
	var out []compare.RuleChange
	if a, p := shareText(applied), shareText(proposed); a != p {
		out = append(out, compare.RuleChange{What: "kernel-share", Base: a, Head: p})
	}
	if a, p := groupText(applied), groupText(proposed); a != p {
		out = append(out, compare.RuleChange{What: "group-by", Base: a, Head: p})
	}
	if a, p := applied.AcceptLabel, proposed.AcceptLabel; a != p {
		out = append(out, compare.RuleChange{What: "accept-label", Base: or(a, "none"), Head: or(p, "none")})
	}
	for _, e := range []struct {
		what string
		a, p *int
	}{{"exit.no-baseline", applied.Exit.NoBaseline, proposed.Exit.NoBaseline}, {"exit.not-comparable", applied.Exit.NotComparable, proposed.Exit.NotComparable}} {
		if a, p := exitText(e.a), exitText(e.p); a != p {
			out = append(out, compare.RuleChange{What: e.what, Base: a, Head: p})
		}
	}
	ar, pr := compare.EffectiveRules(applied.Rules), compare.EffectiveRules(proposed.Rules)
	type key struct{ what, cause, base, head string }
	index := map[key]int{}
	var groups []compare.RuleChange
	for _, m := range metrics {
		ai, pi := firstMatch(ar, m), firstMatch(pr, m)
		a, p := ruleAt(ar, ai), ruleAt(pr, pi)
		// The change is the proposed gate.yml's rule when one matched, else
		// the applied one's (a rule the proposal dropped).
		cause := glob(a)
		if pi >= 0 && pi < len(proposed.Rules) {
			cause = glob(p)
		}
		for _, d := range ruleDiffs(m, a, p) {
			k := key{d.What, cause, d.Base, d.Head}
			if i, ok := index[k]; ok {
				groups[i].Count++
				groups[i].Metric = cause
				continue
			}
			index[k] = len(groups)
			d.Count = 1
			groups = append(groups, d)
		}
	}
	for i, g := range groups {
		if len(out) == max {
			out = append(out, compare.RuleChange{What: "and " + strconv.Itoa(len(groups)-i) + " more rule changes"})
			break
		}
		out = append(out, g)
	}
	return out
}

func glob(r *compare.Rule) string {
	if r == nil {
		return ""
	}
	return r.Metric
}

// firstMatch is the index of the rule that judges metric, -1 for none.
func firstMatch(rules []compare.Rule, metric string) int {
	for i := range rules {
		if compare.Match(rules[i].Metric, metric) {
			return i
		}
	}
	return -1
}

func ruleAt(rules []compare.Rule, i int) *compare.Rule {
	if i < 0 {
		return nil
	}
	return &rules[i]
}

// ruleDiffs compares the rules that would judge metric.
func ruleDiffs(metric string, a, p *compare.Rule) []compare.RuleChange {
	var zero compare.Rule
	if a == nil {
		a = &zero
	}
	if p == nil {
		p = &zero
	}
	if a.Ignore != p.Ignore {
		return []compare.RuleChange{{What: "ignore", Metric: metric, Base: onOff(a.Ignore), Head: onOff(p.Ignore)}}
	}
	if a.Ignore {
		return nil
	}
	var out []compare.RuleChange
	for _, f := range []struct{ what, a, p, none string }{
		{"warn threshold", a.Warn, p.Warn, "none"},
		{"fail threshold", a.Fail, p.Fail, "none"},
		{"floor", a.Floor, p.Floor, "none"},
		{"better", string(a.Better), string(p.Better), "the metric's own"},
		{"kind", string(a.Kind), string(p.Kind), "the metric's own"},
	} {
		if strings.TrimSpace(f.a) != strings.TrimSpace(f.p) {
			out = append(out, compare.RuleChange{What: f.what, Metric: metric, Base: or(f.a, f.none), Head: or(f.p, f.none)})
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "ignored"
	}
	return "judged"
}

func or(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}

func shareText(c *Config) string {
	v, err := c.KernelShareFraction()
	if err != nil {
		return c.KernelShare
	}
	return strconv.FormatFloat(v*100, 'g', -1, 64) + "%"
}

func exitText(v *int) string {
	if v == nil {
		return "3"
	}
	return strconv.Itoa(*v)
}

// groupText says how a configuration groups decode steps.
func groupText(c *Config) string {
	if c.GroupBy == "" {
		return "(none)"
	}
	if len(c.BatchBuckets) == 0 {
		return c.GroupBy
	}
	return fmt.Sprintf("%s %v", c.GroupBy, c.BatchBuckets)
}
