package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

const sampleConfig = `id: llama-decode
scope: benchmark
kernel-share: 1.5%
phases:
  decode: ['^decode$', 'generation_[1-9]']
components:
  - name: attention
    match: 'my_attn_.*'
rules:
  - metric: phases.decode.span.p50
    warn: 3%
    fail: 8%
    floor: 5us
  - metric: kernels.nvjet_*.total
    ignore: true
  - metric: extra.tokens_per_s
    better: higher
    kind: stat
    fail: 5%
exit:
  no-baseline: 0
  not-comparable: 0
`

func TestParse(t *testing.T) {
	cfg, err := Parse("gate.yml", []byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != "llama-decode" || cfg.Scope != "benchmark" || len(cfg.Rules) != 3 || len(cfg.Phases["decode"]) != 2 {
		t.Errorf("decoded %+v", cfg)
	}
	if r := cfg.Rules[0]; r.Metric != "phases.decode.span.p50" || r.Warn != "3%" || r.Fail != "8%" || r.Floor != "5us" {
		t.Errorf("rule 0: %+v", r)
	}
	if !cfg.Rules[1].Ignore || cfg.Rules[2].Better != "higher" || cfg.Rules[2].Kind != compare.Stat {
		t.Errorf("rules: %+v", cfg.Rules)
	}
	opts, err := cfg.CompareOptions()
	if err != nil || opts.KernelShare != 0.015 || opts.ConfigID != "llama-decode" || len(opts.Rules) != 3 {
		t.Errorf("CompareOptions = %+v, %v", opts, err)
	}
	for _, v := range []compare.Verdict{compare.NoBaseline, compare.NotComparable} {
		if code, set := cfg.NeutralExit(v); code != 0 || !set {
			t.Errorf("NeutralExit(%s) = %d, %v: the exit override is not applied", v, code, set)
		}
	}
	def := &Config{}
	for _, v := range []compare.Verdict{compare.Pass, compare.Warn, compare.Fail, compare.NoBaseline, compare.NotComparable} {
		if _, set := def.NeutralExit(v); set {
			t.Errorf("default NeutralExit(%s) is set", v)
		}
	}
	if _, set := (*Config)(nil).NeutralExit(compare.NoBaseline); set {
		t.Error("a nil config sets an exit code")
	}
}

// TestStepKeys: group-by, batch-buckets, nvtx-domain and infer-steps reach
// compare and the parser.
func TestStepKeys(t *testing.T) {
	cfg, err := Parse("gate.yml", []byte("group-by: batch\nbatch-buckets: [8, 16, 64]\nnvtx-domain: vllm\ninfer-steps:\n  repeating: decode\n  large: none\n  min-repeats: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.CompareOptions()
	if err != nil || opts.GroupBy != compare.GroupByBatch || len(opts.BatchBuckets) != 3 || opts.BatchBuckets[2] != 64 {
		t.Errorf("CompareOptions = %+v, %v", opts, err)
	}
	po := cfg.ParseOptions()
	if po.Domain != "vllm" || po.Infer.Repeating != "decode" || po.Infer.Large != "none" || po.Infer.MinRepeats != 5 {
		t.Errorf("ParseOptions = %+v", po)
	}
	rec, err := cfg.Record()
	if err != nil || !strings.Contains(string(rec), `"group-by":"batch","batch-buckets":[8,16,64]`) {
		t.Errorf("recorded judging part %s (%v): grouping must travel with the baseline", rec, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		yaml, want string
	}{
		{"rule:\n  - metric: x\n", "gate.yml: line 1: field rule not found"},
		{"rules:\n  - metric: x\n    wran: 5%\n", "gate.yml: line 3: field wran not found"},
		{"rules:\n  - metric: x\n    warn: 5%\n  - metric: y\n    fail: 5 percent\n", "gate.yml: rules[1].fail: threshold \"5 percent\""},
		{"rules:\n  - metric: ''\n", "rules[0].metric"},
		{"rules:\n  - metric: x\n    better: smaller\n", "rules[0].better"},
		{"rules:\n  - metric: x\n    kind: fuzzy\n", "rules[0].kind"},
		{"rules:\n  - metric: x\n    warn: 10%\n    fail: 5%\n", "rules[0].warn"},
		{"kernel-share: lots\n", "kernel-share"},
		{"kernel-share: 150%\n", "kernel-share"},
		{"phases:\n  warmup: [x]\n", "unknown phase \"warmup\""},
		{"phases:\n  decode: ['(']\n", "phases.decode[0]"},
		{"components:\n  - name: a\n    match: '['\n", "components[0].match"},
		{"components:\n  - match: x\n", "components[0].name"},
		{"exit:\n  no-baseline: 300\n", "exit.no-baseline"},
		{"id: a\n---\nid: b\n", "more than one YAML document"},
		{"rules: 5\n", "gate.yml"},
		{"id: llama decode\n", "id: \"llama decode\": use letters, digits"},
		{"id: -x\n", "id: \"-x\""},
		{"entries: [a, b, a]\n", "entries[2]: \"a\" is listed twice"},
		{"entries: [a, 'b/c']\n", "entries[1]"},
		{"accept-label: ' perf'\n", "accept-label"},
		{"group-by: shape\n", "group-by: \"shape\""},
		{"batch-buckets: [8]\n", "batch-buckets"},
		{"group-by: batch\nbatch-buckets: [16, 8]\n", "batch-buckets[1]"},
		{"infer-steps:\n  repeating: warmup\n", "infer-steps.repeating"},
		{"infer-steps:\n  min-repeats: 1\n", "infer-steps.min-repeats"},
		{"infer-steps:\n  repeat: decode\n", "field repeat not found"},
	}
	for _, tt := range tests {
		_, err := Parse("gate.yml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "gate.yml") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) = %v, want a one-line error naming gate.yml and %q", tt.yaml, err, tt.want)
		}
	}
}

func TestParseConfigEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n"} {
		cfg, err := Parse("gate.yml", []byte(in))
		if err != nil || cfg == nil {
			t.Errorf("Parse(%q) = %v, %v", in, cfg, err)
		}
	}
	cfg, err := Load("")
	if err != nil || cfg == nil {
		t.Fatal(err)
	}
	if opts, _ := cfg.CompareOptions(); opts.KernelShare != compare.DefaultKernelShare {
		t.Errorf("default kernel share %g", opts.KernelShare)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil {
		t.Error("missing config file: no error")
	}
}

// FuzzParseConfig: any input either parses into a config whose rules all
// validate, or gives an error naming the file; it never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("rules:\n  - metric: '**'\n    warn: 1e3ns\n"))
	f.Add([]byte("kernel-share: 0.02\nexit:\n  not-comparable: 0\n"))
	f.Add([]byte("rules:\n  - {metric: 'kernels.[.total', fail: '%'}\n"))
	if data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "compare", "gate.yml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yml: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if err := compare.ValidateRules(cfg.Rules); err != nil {
			t.Errorf("accepted config has invalid rules: %v", err)
		}
		if _, err := cfg.CompareOptions(); err != nil {
			t.Errorf("accepted config has bad options: %v", err)
		}
		for _, r := range compare.EffectiveRules(cfg.Rules) {
			compare.Match(r.Metric, "phases.decode.span.p50")
		}
	})
}

func TestExampleConfigParses(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "testdata", "compare", "gate.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID == "" || len(cfg.Rules) == 0 || cfg.Exit.NoBaseline == nil {
		t.Errorf("example config decoded to %+v", cfg)
	}
}

// TestReadmeConfigParses: the gate.yml the README shows is one gate reads,
// every key of it.
func TestReadmeConfigParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "### gate.yml")
	if !ok {
		t.Fatal("README.md has no gate.yml section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("README.md's gate.yml section has no yaml block")
	}
	cfg, err := Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID == "" || cfg.AcceptLabel == "" || len(cfg.Entries) == 0 || len(cfg.Rules) == 0 {
		t.Errorf("README's gate.yml read as %+v", cfg)
	}
}
