package compare

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The default rules sit beside the noise measured between runs of the same
// code: docs/judging.md holds a table of each default rule and the largest
// change any of its metrics showed between two runs of the same code, either
// direction: base_a, base_b and vllm_real (three runs of the workload), and
// gm_base, gm_base1 and gm_base2 (three more, with GPU-metrics sampling at
// 20 and 10 kHz), over the metrics that are gated (single kernels below the
// kernel share are not). This test
// keeps the table true (-update rewrites it) and none of those changes a
// warning or a failure.

const (
	noiseBegin = "<!-- noise table: go test ./compare -run DefaultsAboveNoise -update -->"
	noiseEnd   = "<!-- end of noise table -->"
)

// noise is the largest change one rule's metrics showed.
type noise struct {
	d      float64 // in the rule's terms: percent, points, or the unit
	metric string
	unit   Unit
	kind   ThresholdKind
}

func TestDefaultsAboveNoise(t *testing.T) {
	sets := [][]string{{"base_a", "base_b", "vllm_real"}, {"gm_base", "gm_base1", "gm_base2"}}
	rules, _ := newRuleSet(nil)
	worst := map[string]*noise{}
	for _, pair := range runPairs(sets) {
		b, h := pair[0], pair[1]
		r := Compare(fixtureSummary(t, b), fixtureSummary(t, h), Options{})
		for _, m := range r.Metrics {
			rule := rules.find(m.Name)
			if rule == nil || !m.HasBase || !m.HasHead || rule.warn == nil && rule.fail == nil || m.Verdict == Info {
				continue
			}
			if m.Verdict == Fail || m.Verdict == Warn {
				t.Errorf("%s vs %s: %s %s (Δ %g, %q): same code", b, h, m.Name, m.Verdict, m.Delta, m.Note)
			}
			n := measured(m, rule)
			if w := worst[rule.Metric]; w == nil || n.d > w.d {
				worst[rule.Metric] = &n
			}
		}
	}
	table := noiseTable(rules, worst)
	path := filepath.Join("..", "docs", "judging.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(noiseBegin)), bytes.Index(doc, []byte(noiseEnd))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the noise table markers", path)
	}
	got := append(append(append([]byte(nil), doc[:i+len(noiseBegin)]...), "\n"+table...), doc[j:]...)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, doc) {
		t.Errorf("%s: the noise table is out of date (go test ./compare -run DefaultsAboveNoise -update):\n%s", path, table)
	}
}

// runPairs is every ordered pair of two runs of one set.
func runPairs(sets [][]string) [][2]string {
	var out [][2]string
	for _, runs := range sets {
		for _, b := range runs {
			for _, h := range runs {
				if b != h {
					out = append(out, [2]string{b, h})
				}
			}
		}
	}
	return out
}

// measured is a metric's change in the terms of its rule's thresholds.
func measured(m Metric, rule *compiledRule) noise {
	t := rule.warn
	if t == nil {
		t = rule.fail
	}
	n := noise{metric: m.Name, unit: m.Unit, kind: t.Kind}
	switch {
	case t.Kind == Relative && m.Base != 0:
		n.d = math.Abs(m.DeltaPct)
	case t.Kind == Relative:
		n.kind, n.d = Absolute, math.Abs(m.Delta)
	default:
		n.d = math.Abs(m.Delta)
	}
	return n
}

func (n *noise) String() string {
	if n == nil {
		return "not in the fixtures"
	}
	var v string
	switch {
	case n.d == 0:
		return "0 (`" + n.metric + "` and all others)"
	case n.kind == Relative:
		v = fmt.Sprintf("%.2f%%", n.d)
	case n.kind == Points:
		v = fmt.Sprintf("%.2f pp", n.d)
	case n.unit == UnitNs:
		v = fmt.Sprintf("%.3g µs", n.d/1e3)
	default:
		v = fmt.Sprintf("%.3g %s", n.d, n.unit)
	}
	return v + " (`" + n.metric + "`)"
}

func noiseTable(rules ruleSet, worst map[string]*noise) string {
	var b strings.Builder
	b.WriteString("| Default rule | Warn | Fail | Floor | Largest change between runs of the same code | Fails? |\n|---|---|---|---|---|---|\n")
	dash := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	for _, r := range rules {
		if r.user {
			continue
		}
		fails := "yes"
		switch fs := familiesMatching(r.Metric); {
		case r.warn == nil && r.fail == nil:
			fails = "no: shown"
		case len(fs) > 0 && allCompositional(fs):
			fails = "no: explains"
		}
		meas := "—"
		if r.warn != nil || r.fail != nil {
			meas = worst[r.Metric].String()
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.Metric, dash(r.Warn), dash(r.Fail), dash(r.Floor), meas, fails)
	}
	return b.String()
}

func allCompositional(fs []*family) bool {
	for _, f := range fs {
		if !f.compositional() {
			return false
		}
	}
	return true
}
