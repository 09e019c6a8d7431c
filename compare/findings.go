package compare

import (
	"math"
	"sort"
)

// findings ranks what a reviewer should read: the regressions (failed
// metrics, then warnings, then the compositional metrics that explain them)
// and the improvements, each by Class, then, among
// step times, the span before busy and kernel time (what a user waits for
// comes first), then by how far past its threshold the change went.
func findings(ms []Metric, fams []*family, rules ruleSet) (regressions, improvements []Finding) {
	type ranked struct {
		f   Finding
		sev int
		sub int
	}
	var reg, imp []ranked
	for i := range ms {
		m := &ms[i]
		fam := fams[i]
		if m.Verdict != Fail && m.Verdict != Warn && !m.Improved {
			continue
		}
		rule := rules.find(m.Name)
		class, sub := ClassWindow, len(families)
		if fam != nil {
			class, sub = fam.class, familyIndex(fam)
		}
		f := Finding{Metric: m.Name, Label: Label(m.Name), Class: class}
		switch {
		case m.Verdict == Fail || m.Verdict == Warn:
			f.Past = past(*m, rule, worse(*m), m.Verdict == Fail)
			sev := 0
			switch {
			case fam != nil && fam.compositional():
				sev = 2 // explains the others: read last
			case m.Verdict == Warn:
				sev = 1
			}
			reg = append(reg, ranked{f, sev, sub})
		case m.Improved:
			f.Past = past(*m, rule, -worse(*m), false)
			imp = append(imp, ranked{f, 0, sub})
		}
	}
	order := func(rs []ranked) []Finding {
		sort.SliceStable(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if a.sev != b.sev {
				return a.sev < b.sev
			}
			if x, y := a.f.Class.rank(), b.f.Class.rank(); x != y {
				return x < y
			}
			if a.f.Class == ClassStepTime && a.sub != b.sub {
				return a.sub < b.sub
			}
			if a.f.Past != b.f.Past {
				return a.f.Past > b.f.Past
			}
			return a.f.Metric < b.f.Metric
		})
		out := make([]Finding, len(rs))
		for i, r := range rs {
			out[i] = r.f
		}
		return out
	}
	return order(reg), order(imp)
}

func familyIndex(f *family) int {
	for i := range families {
		if &families[i] == f {
			return i
		}
	}
	return len(families)
}

// maxPast bounds Finding.Past, which must stay finite for JSON.
const maxPast = 1e6

// past is how many times over its threshold a change of size d went: the
// fail threshold for a failure, else the warn threshold (improvements are
// measured against the threshold the other way would have crossed). A zero
// threshold ("any increase") is measured against the floor, or else one
// percent of the base.
func past(m Metric, rule *compiledRule, d float64, failed bool) float64 {
	if rule == nil {
		return 0
	}
	t := rule.warn
	if failed && rule.fail != nil || t == nil {
		t = rule.fail
	}
	if t == nil {
		return 0
	}
	var v float64
	switch {
	case t.Kind == Relative && m.Base != 0:
		v = math.Abs(d/m.Base*100) / t.Value
	case t.Kind == Relative:
		v = maxPast
	case t.Value > 0:
		v = math.Abs(d) / t.Value
	case rule.floor != nil && rule.floor.Value > 0 && rule.floor.Kind != Relative:
		v = math.Abs(d) / rule.floor.Value
	case m.Base != 0:
		v = math.Abs(d/m.Base) * 100
	default:
		v = maxPast
	}
	if math.IsNaN(v) || v > maxPast {
		return maxPast
	}
	return v
}
