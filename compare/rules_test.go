package compare

import (
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in    string
		kind  ThresholdKind
		value float64
		unit  Unit
		err   string
	}{
		{in: "5%", kind: Relative, value: 5},
		{in: "0.5%", kind: Relative, value: 0.5},
		{in: " 1pp ", kind: Points, value: 1},
		{in: "10us", kind: Absolute, value: 10e3, unit: "ns"},
		{in: "10µs", kind: Absolute, value: 10e3, unit: "ns"},
		{in: "2ms", kind: Absolute, value: 2e6, unit: "ns"},
		{in: "1s", kind: Absolute, value: 1e9, unit: "ns"},
		{in: "1MB", kind: Absolute, value: 1e6, unit: "bytes"},
		{in: "1MiB", kind: Absolute, value: 1 << 20, unit: "bytes"},
		{in: "5GB/s", kind: Absolute, value: 5e9, unit: "bps"},
		{in: "3", kind: Absolute, value: 3},
		{in: "0", kind: Absolute, value: 0},
		{in: "1e3ns", kind: Absolute, value: 1000, unit: "ns"},
		{in: "", err: "empty"},
		{in: "%", err: "want a number"},
		{in: "-5%", err: "want a number"},
		{in: "5 percent", err: "unknown unit"},
		{in: "5%%", err: "unknown unit"},
		{in: "1.2.3", err: "unknown unit"},
		{in: "10 us", kind: Absolute, value: 10e3, unit: "ns"},
		{in: "NaN", err: "want a number"},
		{in: "1e999", err: "bad number"},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseThreshold(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tt.in, err)
			continue
		}
		if got.Kind != tt.kind || got.Value != tt.value || got.Unit != tt.unit {
			t.Errorf("ParseThreshold(%q) = %+v, want kind %d value %g unit %q", tt.in, got, tt.kind, tt.value, tt.unit)
		}
	}
}

func TestThresholdExceeds(t *testing.T) {
	tests := []struct {
		th         string
		base, d    float64
		unit       Unit
		want, fits bool
	}{
		{th: "5%", base: 100, d: 5, unit: "ns", want: false, fits: true},
		{th: "5%", base: 100, d: 5.01, unit: "ns", want: true, fits: true},
		{th: "5%", base: 0, d: 1, unit: "count", want: true, fits: true}, // from nothing: infinite
		{th: "5%", base: 0, d: 0, unit: "count", want: false, fits: true},
		{th: "0", base: 0.02, d: 1e-9, unit: "count", want: true, fits: true},
		{th: "0", base: 3, d: 0, unit: "count", want: false, fits: true},
		{th: "1pp", base: 93, d: 1.5, unit: "pct", want: true, fits: true},
		{th: "1pp", base: 93, d: 1.5, unit: "ns", fits: false},
		{th: "10us", base: 1e6, d: 10001, unit: "ns", want: true, fits: true},
		{th: "10us", base: 1e6, d: 9999, unit: "ns", want: false, fits: true},
		{th: "10us", unit: "bytes", fits: false},
		{th: "1MB", base: 0, d: 2e6, unit: "bytes", want: true, fits: true},
		{th: "3", base: 10, d: 3, unit: "tokens/s", want: false, fits: true},
	}
	for _, tt := range tests {
		th, err := ParseThreshold(tt.th)
		if err != nil {
			t.Fatal(err)
		}
		if fits := th.appliesTo(tt.unit); fits != tt.fits {
			t.Errorf("%s appliesTo(%s) = %v, want %v", tt.th, tt.unit, fits, tt.fits)
		}
		if !tt.fits {
			continue
		}
		if got := th.exceeds(tt.base, tt.d); got != tt.want {
			t.Errorf("%s exceeds(base %g, d %g) = %v, want %v", tt.th, tt.base, tt.d, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"phases.decode.span.p50", "phases.decode.span.p50", true},
		{"phases.*.span.p50", "phases.prefill.span.p50", true},
		{"phases.*.span.p50", "phases.prefill.busy.p50", false},
		{"phases.*", "phases.decode.span.p50", false},
		{"phases.**", "phases.decode.span.p50", true},
		{"**.p50", "phases.decode.span.p50", true},
		{"**", "anything.at.all", true},
		{"phases.**.p50", "phases.p50", true},
		{"kernels.*.total", "kernels." + Segment("at::native::foo<1.5>") + ".total", true},
		{"kernels.nvjet_*.total", "kernels.nvjet_sm90_tst_64x8_64x16_4x2_h_bz_NNT.total", true},
		{"kernels.nvjet_*.total", "kernels.cudnn_x.total", false},
		{"kernels.[.total", "kernels.[.total", false}, // malformed pattern matches nothing
		{"components.*.attention.share", "components.decode.attention.share", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pat, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestSegmentKeepsKernelNamesOneSegment(t *testing.T) {
	names := []string{
		"void at::native::vectorized_elementwise_kernel<(int)4, float>(int, T2, T3)",
		"a.b.c", "a/b", "*", "**", "x?y", "[abc]", "back\\slash", "100%", "new\nline", "",
	}
	seen := map[string]string{}
	for _, n := range names {
		s := Segment(n)
		if strings.ContainsAny(s, ".*?[]\\ \n") || s == "" {
			t.Errorf("Segment(%q) = %q: still has a separator or glob character", n, s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("Segment(%q) = Segment(%q) = %q", n, prev, s)
		}
		seen[s] = n
		if !Match("kernels.*.total", "kernels."+s+".total") {
			t.Errorf("kernels.*.total does not match kernel %q", n)
		}
	}
	if got := Segment("nvjet_sm90_tst_64x8"); got != "nvjet_sm90_tst_64x8" {
		t.Errorf("plain name changed: %q", got)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		rules []Rule
		err   string
	}{
		{rules: []Rule{{Metric: "phases.decode.span.p50", Warn: "5%", Fail: "10%"}}},
		{rules: defaultRules},
		{rules: []Rule{{Metric: "x", Warn: "5%"}, {Metric: "y", Fail: "ten"}}, err: "rules[1].fail: "},
		{rules: []Rule{{Metric: ""}}, err: "rules[0].metric: "},
		{rules: []Rule{{Metric: "a..b"}}, err: "rules[0].metric: "},
		{rules: []Rule{{Metric: "kernels.[.total"}}, err: "rules[0].metric: "},
		{rules: []Rule{{Metric: "x", Better: "smaller"}}, err: "rules[0].better: "},
		{rules: []Rule{{Metric: "x", Kind: "fuzzy"}}, err: "rules[0].kind: "},
		{rules: []Rule{{Metric: "x", Floor: "1 furlong"}}, err: "rules[0].floor: "},
		{rules: []Rule{{Metric: "x", Warn: "10%", Fail: "5%"}}, err: "rules[0].warn: "},
		{rules: []Rule{{Metric: "x", Warn: "10us", Fail: "5%"}}}, // different kinds: both apply
		// A threshold in a unit its metric does not have is refused, named.
		{rules: []Rule{{Metric: "phases.decode.kernels", Fail: "5ms"}}, err: `rules[0].fail: "5ms" is a time and cannot measure phases.*.kernels (a count, matched by "phases.decode.kernels")`},
		{rules: []Rule{{Metric: "phases.decode.*", Floor: "2us"}}, err: `rules[0].floor: "2us" is a time and cannot measure phases.*.kernels (a count, matched by "phases.decode.*")`},
		{rules: []Rule{{Metric: "kernels.*.total", Warn: "2pp"}}, err: `rules[0].warn: "2pp" is in percentage points and cannot measure kernels.*.total (a time`},
		{rules: []Rule{{Metric: "**", Warn: "1MB"}}, err: `rules[0].warn: "1MB" is a size in bytes and cannot measure phases.*.span.p50`},
		{rules: []Rule{{Metric: "phases.*.span.p50", Fail: "5ms", Floor: "20us"}}},
		{rules: []Rule{{Metric: "phases.*.memcpy_bytes", Floor: "1MiB"}}},
		{rules: []Rule{{Metric: "phases.**", Warn: "5%", Fail: "3"}}}, // relative and bare numbers fit any unit
		{rules: []Rule{{Metric: "extra.ttft_ms", Fail: "5ms"}}},       // the extra metric's own unit: checked at compare time
		{rules: []Rule{{Metric: "nothing.gate.makes", Fail: "5ms"}}},  // matches no metric: a warning, not an error
	}
	for _, tt := range tests {
		err := ValidateRules(tt.rules)
		if tt.err == "" {
			if err != nil {
				t.Errorf("ValidateRules(%+v): %v", tt.rules, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("ValidateRules(%+v) = %v, want error starting %q", tt.rules, err, tt.err)
		}
	}
}

// A rule whose glob can match no metric gate makes is a warning, at load
// (RuleWarnings) and in the result of a comparison.
func TestRuleMatchingNothingWarns(t *testing.T) {
	rules := []Rule{{Metric: "phases.decode.spam.p50", Fail: "5%"}, {Metric: "phases.decode.span.p50", Fail: "5%"}, {Metric: "kernels.nvjet_*.total", Fail: "5%"}}
	ws := RuleWarnings(rules)
	if len(ws) != 1 || !strings.HasPrefix(ws[0], `rules[0].metric: "phases.decode.spam.p50" matches no metric gate knows`) {
		t.Errorf("RuleWarnings = %q", ws)
	}
	if ws := RuleWarnings(defaultRules); len(ws) != 0 {
		t.Errorf("default rules match nothing: %q", ws)
	}
	r := Compare(summary(1, 2, 3), summary(1, 2, 3), Options{Rules: rules})
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "phases.decode.spam.p50") {
		t.Errorf("result warnings %q", r.Warnings)
	}
}

// Every metric gate makes has a family in the vocabulary, the family the
// flattening made it with: labels, classes, units and rule checks agree.
func TestFlattenNamesHaveFamilies(t *testing.T) {
	s := fixtureSummary(t, "base_a")
	es, _ := flatten(s, grouping{})
	diff, _ := diffKernels(s.Kernels, s.Kernels)
	es = append(es, kernelSetEntries(diff, s, s, DefaultKernelShare, true)...)
	for _, e := range es {
		f := familyOf(e.name)
		if f == nil || f != e.fam || f.unit != e.unit || f.group != e.group {
			t.Errorf("%s: family %+v, made as %+v", e.name, f, e.fam)
		}
	}
	for _, tc := range []struct{ name, label string }{
		{"phases.decode.span.p50", "decode step p50"},
		{"phases.prefill.kernels", "prefill kernels/step"},
		{"components.decode.attention.time", "decode attention time"},
		{"components.window.attention.share", "whole run attention share"},
		{"kernels.window.total", "window total time"}, // a kernel, not the pseudo-phase
		{"kernels." + Segment("a.b") + ".per_step", "a.b launches/decode step"},
		{"extra.tokens_per_s", "tokens_per_s"},
		{"no.such.metric", "no.such.metric"},
	} {
		if got := Label(tc.name); got != tc.label {
			t.Errorf("Label(%s) = %q, want %q", tc.name, got, tc.label)
		}
	}
}

// Every metric of a real summary is covered by a default rule, and the rule
// that covers it is the intended one.
func TestDefaultRulesCoverFixtureMetrics(t *testing.T) {
	rs, warns := newRuleSet(nil)
	if len(warns) != 0 {
		t.Fatalf("default rules do not compile: %v", warns)
	}
	es, _ := flatten(fixtureSummary(t, "base_a"), grouping{})
	for _, m := range es {
		if rs.find(m.name) == nil {
			t.Errorf("no default rule for %s", m.name)
		}
	}
	want := map[string]string{
		"phases.decode.span.p50":            "phases.*.span.p50",
		"phases.prefill.kernels":            "phases.*.kernels",
		"cuda_graphs.coverage_count":        "cuda_graphs.coverage_count",
		"kernels.reduce_kernel.total":       "kernels.*.total",
		"components.decode.attention.share": "components.*.*.share",
		"extra.tokens_per_s":                "extra.*",
	}
	for name, pat := range want {
		r := rs.find(name)
		if r == nil || r.Metric != pat {
			t.Errorf("rule for %s = %+v, want %s", name, r, pat)
		}
	}
}

func TestUserRulesComeFirst(t *testing.T) {
	user := []Rule{{Metric: "phases.decode.span.p50", Warn: "1%", Fail: "2%"}, {Metric: "kernels.**", Ignore: true}}
	rs, _ := newRuleSet(user)
	if r := rs.find("phases.decode.span.p50"); r == nil || r.Warn != "1%" || !r.user {
		t.Errorf("user rule not chosen: %+v", r)
	}
	if r := rs.find("phases.prefill.span.p50"); r == nil || r.user {
		t.Errorf("default rule not chosen for prefill: %+v", r)
	}
	eff := EffectiveRules(user)
	if len(eff) != len(user)+len(defaultRules) || eff[0] != user[0] || eff[len(user)] != defaultRules[0] {
		t.Errorf("EffectiveRules order wrong: %d rules", len(eff))
	}
}

// FuzzParseThreshold: thresholds either parse to a finite, non-negative
// value or give an error; globs never panic.
func FuzzParseThreshold(f *testing.F) {
	for _, r := range defaultRules {
		f.Add(r.Warn, r.Metric)
		f.Add(r.Fail, r.Metric)
		f.Add(r.Floor, r.Metric)
	}
	f.Add("1e3ns", "kernels.[.total")
	f.Add("5 GB/s", "**.**")
	f.Fuzz(func(t *testing.T, th, pattern string) {
		v, err := ParseThreshold(th)
		if err == nil && (v.Value < 0 || v.Value != v.Value || v.Value > 1e308 || v.Kind == 0) {
			t.Errorf("ParseThreshold(%q) = %+v", th, v)
		}
		Match(pattern, "phases.decode.span.p50")
		Match(pattern, pattern)
		_, _ = compileRule(Rule{Metric: pattern, Warn: th})
	})
}

func TestMatchManyDoubleStars(t *testing.T) {
	p := strings.Repeat("**.", 200) + "x"
	if Match(p, "a.b.c.d.e.f.g.h.y") {
		t.Error("matched")
	}
	if !Match(p, "a.b.c.x") {
		t.Error("did not match")
	}
}

func TestDisplayName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"extra." + Segment("load.ttft.p50_ms"), "extra.load.ttft.p50_ms"},
		{"kernels." + Segment("void gemm<128, 64>(float*)") + ".total", "kernels.void%20gemm<128,%2064>(float*).total"},
		{"kernels." + Segment("100%.") + ".count", "kernels.100%..count"},
		{"phases.decode.span.p50", "phases.decode.span.p50"},
		{"bad%ZZ%4", "bad%ZZ%4"},
	} {
		if got := DisplayName(tc.in); got != tc.want {
			t.Errorf("DisplayName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
