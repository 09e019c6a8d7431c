package compare

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Metric names are dot-separated segments ("phases.decode.span.p50"). Names
// that come from a profile (kernels, components, collectives, extra metrics)
// are escaped with Segment so that a kernel name holding dots or glob
// characters stays one segment and can never be mistaken for a pattern: a
// rule "kernels.*.total" matches every kernel, and "kernels.nvjet_*.total"
// the nvjet GEMMs, whatever odd characters the names contain.

// Segment escapes s for use as one segment of a metric name: '%', '.', '/'
// (which path.Match's '*' does not cross), the glob characters '*', '?', '[', ']', '\\', spaces and control bytes are
// written as %XX (upper-case hex). An empty s becomes "_", so that no
// segment is empty.
func Segment(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' || c == '.' || c == '/' || c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c <= ' ' || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DisplayName is a metric name for people: the %XX escapes of Segment are
// decoded (extra.load%2Ettft%2Ep50_ms reads extra.load.ttft.p50_ms), except
// spaces and control bytes, which stay escaped. Rules still match the
// escaped name.
func DisplayName(name string) string {
	if !strings.Contains(name, "%") {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '%' && i+2 < len(name) {
			if v, err := strconv.ParseUint(name[i+1:i+3], 16, 8); err == nil && v > ' ' && v != 0x7f {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// Match reports whether the metric name matches the glob pattern. Both are
// split at dots; each pattern segment matches one name segment as path.Match
// does, except "**", which matches any number of segments (including none).
// A malformed pattern matches nothing.
func Match(pattern, name string) bool {
	return matchSegs(splitPattern(pattern), strings.Split(name, "."))
}

// splitPattern splits a glob at dots, collapsing runs of "**" (which match
// the same names as one) so that matching stays cheap.
func splitPattern(p string) []string {
	segs := strings.Split(p, ".")
	out := segs[:0]
	for _, s := range segs {
		if s == "**" && len(out) > 0 && out[len(out)-1] == "**" {
			continue
		}
		out = append(out, s)
	}
	return out
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(name); i++ {
				if matchSegs(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		ok, err := path.Match(pat[0], name[0])
		if err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// validPattern reports an error for a metric glob that can never work.
func validPattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("empty metric pattern")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return fmt.Errorf("metric pattern %q has an empty segment", p)
		}
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("metric pattern %q: bad segment %q: %v", p, seg, err)
		}
	}
	return nil
}

// compiledRule is a Rule with its thresholds parsed.
type compiledRule struct {
	Rule
	warn, fail, floor *Threshold
	user              bool
	segs              []string // Metric split at dots
	text              string   // thresholdText, computed once
}

// ValidateRules checks rules and names the index and field of the first bad
// one: "rules[2].warn: threshold "5 percent": unknown unit ...".
func ValidateRules(rs []Rule) error {
	for i, r := range rs {
		if _, err := compileRule(r); err != nil {
			return fmt.Errorf("rules[%d].%w", i, err)
		}
	}
	return nil
}

// fieldError is an error about one field of a rule, printed "field: msg" so
// that ValidateRules can prefix the index.
func fieldError(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}

func compileRule(r Rule) (compiledRule, error) {
	c := compiledRule{Rule: r, segs: splitPattern(r.Metric)}
	if err := validPattern(r.Metric); err != nil {
		return c, fieldError("metric", err)
	}
	switch r.Better {
	case Descriptive, Lower, Higher:
	default:
		return c, fieldError("better", fmt.Errorf("%q: want lower or higher", r.Better))
	}
	switch r.Kind {
	case "", Exact, Stat:
	default:
		return c, fieldError("kind", fmt.Errorf("%q: want exact or stat", r.Kind))
	}
	for _, f := range c.thresholds() {
		if f.text == "" {
			continue
		}
		t, err := ParseThreshold(f.text)
		if err != nil {
			return c, fieldError(f.name, err)
		}
		*f.dst = &t
	}
	c.text = thresholdText(&c)
	if c.warn != nil && c.fail != nil && c.warn.Kind == c.fail.Kind && c.warn.Unit == c.fail.Unit && c.warn.Value > c.fail.Value {
		return c, fieldError("warn", fmt.Errorf("%q is larger than fail %q", r.Warn, r.Fail))
	}
	if err := c.checkUnits(); err != nil {
		return c, err
	}
	return c, nil
}

// thresholdField is one of a rule's threshold fields.
type thresholdField struct {
	name string
	text string
	dst  **Threshold
}

func (c *compiledRule) thresholds() []thresholdField {
	return []thresholdField{{"warn", c.Warn, &c.warn}, {"fail", c.Fail, &c.fail}, {"floor", c.Floor, &c.floor}}
}

// checkUnits refuses a threshold that cannot measure a metric the rule's
// glob can match: "fail: 5ms" on a count would never be crossed, and would
// quietly weaken the gate. Extra metrics carry their own unit, known only at
// compare time.
func (c *compiledRule) checkUnits() error {
	for _, f := range familiesMatching(c.Metric) {
		if f.unit == "" {
			continue
		}
		for _, tf := range c.thresholds() {
			if t := *tf.dst; t != nil && !t.appliesTo(f.unit) {
				return fieldError(tf.name, fmt.Errorf("%q is %s and cannot measure %s (%s, matched by %q): write %s",
					t.Text, thresholdUnitWords(t), f.pattern, unitWords(f.unit), c.Metric, fitting(f.unit)))
			}
		}
	}
	return nil
}

// thresholdUnitWords says what a threshold measures.
func thresholdUnitWords(t *Threshold) string {
	if t.Kind == Points {
		return "in percentage points"
	}
	return unitWords(t.Unit)
}

// unitWords names a unit for people.
func unitWords(u Unit) string {
	switch u {
	case UnitNs:
		return "a time"
	case UnitBytes:
		return "a size in bytes"
	case UnitBps:
		return "a rate in bytes per second"
	case UnitPct:
		return "a percentage"
	case UnitCount:
		return "a count"
	}
	return "in " + string(u)
}

// fitting suggests thresholds that fit a unit.
func fitting(u Unit) string {
	switch u {
	case UnitNs:
		return `a time ("10us"), a relative change ("5%") or a bare number of ns`
	case UnitBytes:
		return `a size ("1MB"), a relative change ("5%") or a bare number of bytes`
	case UnitBps:
		return `a rate ("5GB/s") or a relative change ("5%")`
	case UnitPct:
		return `percentage points ("2pp") or a relative change ("5%")`
	}
	return `a bare number ("3") or a relative change ("5%")`
}

// RuleWarnings lists rules that can match no metric gate makes (a typo such
// as phases.decode.spam.p50): they are not errors, since a pattern may be
// meant for metrics a later gate adds, but such a rule gates nothing.
func RuleWarnings(rs []Rule) []string {
	var ws []string
	for i, r := range rs {
		if validPattern(r.Metric) != nil {
			continue
		}
		if len(familiesMatching(r.Metric)) == 0 {
			ws = append(ws, fmt.Sprintf("rules[%d].metric: %q matches no metric gate knows: the rule gates nothing (see gate rules, or the metric names in a report)", i, r.Metric))
		}
	}
	return ws
}

// ruleSet is the ordered list of rules a comparison applies: the user's rules
// first, then the defaults; the first whose pattern matches a metric wins.
type ruleSet []compiledRule

// newRuleSet compiles user rules followed by the defaults. Invalid user rules
// are reported once and skipped, so that a comparison still runs.
func newRuleSet(user []Rule) (ruleSet, []string) {
	var rs ruleSet
	var warnings []string
	for i, r := range user {
		c, err := compileRule(r)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("rules[%d].%v (rule skipped)", i, err))
			continue
		}
		c.user = true
		rs = append(rs, c)
	}
	warnings = append(warnings, RuleWarnings(user)...)
	for _, r := range defaultRules {
		c, err := compileRule(r)
		if err != nil {
			// A broken default is a bug in gate, not in the user's input.
			warnings = append(warnings, fmt.Sprintf("default rule %q: %v", r.Metric, err))
			continue
		}
		rs = append(rs, c)
	}
	return rs, warnings
}

// find returns the first rule matching name, or nil.
func (rs ruleSet) find(name string) *compiledRule {
	first := name
	if i := strings.IndexByte(name, '.'); i >= 0 {
		first = name[:i]
	}
	var segs []string
	for i := range rs {
		// Most rules start with a literal group ("phases", "kernels"):
		// skip them without splitting the name.
		if f := rs[i].segs[0]; f != first && !strings.ContainsAny(f, "*?[\\") {
			continue
		}
		if segs == nil {
			segs = strings.Split(name, ".")
		}
		if matchSegs(rs[i].segs, segs) {
			return &rs[i]
		}
	}
	return nil
}

// EffectiveRules is the rule list a comparison with the given user rules
// applies, in the order rules are tried: user rules, then the defaults.
func EffectiveRules(user []Rule) []Rule {
	out := make([]Rule, 0, len(user)+len(defaultRules))
	out = append(out, user...)
	return append(out, defaultRules...)
}
