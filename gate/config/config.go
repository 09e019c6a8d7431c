// Package config reads gate.yml: the rules, scope, phase patterns, component
// rules, kernel share and neutral exit codes of one gate. Start at Load (a
// path) or Parse (bytes); a Config then hands each consumer its part:
// ParseOptions for the parser, CompareOptions for compare, NeutralExit for
// the command's exit code.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// Config is gate.yml. Every key is optional; unknown keys are errors so that a
// typo never silently disables a rule.
//
// An example:
//
//	id: llama-decode
//	scope: benchmark
//	kernel-share: 2%
//	group-by: batch
//	batch-buckets: [8, 16, 32, 64]
//	rules:
//	  - metric: phases.decode.span.p50
//	    warn: 3%
//	    fail: 8%
//	  - metric: kernels.nvjet_*.total
//	    ignore: true
//	exit:
//	  no-baseline: 0
//	accept-label: perf-accepted
//
// Rules are tried before the built-in defaults (gate rules prints them all);
// the first rule whose metric glob matches a metric decides how it is judged.
type Config struct {
	// ID names this configuration: it keys the sticky PR comment, so that two
	// gates on one PR keep two comments, and the artifacts of its baselines
	// and reports (gate-baseline-ID), so that each compares with its own.
	// Letters, digits, '.', '_' and '-' (see CheckID).
	ID    string `yaml:"id"`
	Scope string `yaml:"scope"` // NVTX range that bounds the measured window
	// Phases maps a phase (prefill, decode, mixed) to regexes over step range
	// names; when set they replace the defaults for that phase.
	Phases map[string][]string `yaml:"phases"`
	// NVTXDomain, when set, is the one NVTX domain whose ranges can be
	// steps ("default" for the default domain); empty: every domain.
	NVTXDomain string `yaml:"nvtx-domain"`
	// InferSteps tunes how steps are found without step ranges.
	InferSteps InferConfig `yaml:"infer-steps"`
	// GroupBy "batch" compares decode steps of each batch size (or bucket
	// of sizes, BatchBuckets: ascending upper bounds) on their own.
	GroupBy      string `yaml:"group-by"`
	BatchBuckets []int  `yaml:"batch-buckets"`
	// Components are extra component rules, tried before the defaults.
	Components []parse.ComponentRule `yaml:"components"`
	Rules      []compare.Rule        `yaml:"rules"`
	// KernelShare is the share of kernel time above which single kernels are
	// gated ("2%").
	KernelShare string `yaml:"kernel-share"`
	// Exit codes for the neutral verdicts (default 3).
	Exit ExitConfig `yaml:"exit"`
	// AcceptLabel is the pull request label that, with a reason line in the
	// description ("gate: accept phases.decode.* — why"), turns the failures
	// the line names into accepted ones. Empty: nothing can be accepted.
	// Only the baseline's recorded value counts (it judges, see Judging).
	AcceptLabel string `yaml:"accept-label"`
	// Entries are the ids of the configurations that a merge job expects a
	// result from (a matrix's legs): one that uploaded nothing is shown as
	// missing, never as passed.
	Entries []string `yaml:"entries"`
}

// InferConfig is infer-steps: where no NVTX step range matches, steps are
// inferred from the launch stream (CUDA-graph launches, host
// synchronisations, a repeating launch sequence). The frequent repeating
// step is the Repeating phase (default decode), a segment with GPU work
// right before one is the Large phase (default prefill); "none" turns
// either off. MinRepeats (default 3) is how often a segment must repeat.
type InferConfig struct {
	Repeating  string `yaml:"repeating"`
	Large      string `yaml:"large"`
	MinRepeats int    `yaml:"min-repeats"`
}

// ExitConfig overrides the exit code of the neutral verdicts.
type ExitConfig struct {
	NoBaseline    *int `yaml:"no-baseline"`
	NotComparable *int `yaml:"not-comparable"`
}

// Parse decodes gate.yml strictly: unknown keys, a second YAML
// document, bad thresholds, globs, regexes, kernel-share or exit codes are
// errors. Errors start with name and say which key is wrong, e.g.
// "gate.yml: rules[2].warn: threshold "5 percent": unknown unit ...".
func Parse(name string, data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, yamlError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &cfg, nil
}

// yamlError puts yaml's multi-line unmarshal errors on one line
// ("line 3: field wran not found in type compare.Rule; line 7: ..."), so
// that a command printing the first line of an error still says what is
// wrong and where.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return err
}

// validate checks what YAML decoding cannot.
func (c *Config) validate() error {
	if err := compare.ValidateRules(c.Rules); err != nil {
		return err
	}
	if c.ID != "" {
		if err := CheckID(c.ID); err != nil {
			return fmt.Errorf("id: %w", err)
		}
	}
	seen := map[string]bool{}
	for i, e := range c.Entries {
		if err := CheckID(e); err != nil {
			return fmt.Errorf("entries[%d]: %w", i, err)
		}
		if seen[e] {
			return fmt.Errorf("entries[%d]: %q is listed twice", i, e)
		}
		seen[e] = true
	}
	if strings.TrimSpace(c.AcceptLabel) != c.AcceptLabel || strings.ContainsAny(c.AcceptLabel, "\r\n") {
		return fmt.Errorf("accept-label: %q: a label name without surrounding spaces or line breaks", c.AcceptLabel)
	}
	if _, err := c.KernelShareFraction(); err != nil {
		return err
	}
	if err := c.ParseOptions().Validate(); err != nil {
		return err
	}
	if err := compare.ValidateGrouping(c.GroupBy, c.BatchBuckets); err != nil {
		return err
	}
	for _, e := range []struct {
		key string
		v   *int
	}{{"exit.no-baseline", c.Exit.NoBaseline}, {"exit.not-comparable", c.Exit.NotComparable}} {
		if e.v != nil && (*e.v < 0 || *e.v > 125) {
			return fmt.Errorf("%s: %d is not an exit code (0..125)", e.key, *e.v)
		}
	}
	return nil
}

// KernelShareFraction parses the kernel-share key: a percentage ("2%") or a
// fraction ("0.02"); empty means compare.DefaultKernelShare.
func (c *Config) KernelShareFraction() (float64, error) {
	s := strings.TrimSpace(c.KernelShare)
	if s == "" {
		return compare.DefaultKernelShare, nil
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("kernel-share: %q: want a percentage such as 2%%", c.KernelShare)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("kernel-share: %q: must be between 0%% and 100%%", c.KernelShare)
	}
	return v, nil
}

// CompareOptions is the part of the configuration compare needs.
func (c *Config) CompareOptions() (compare.Options, error) {
	share, err := c.KernelShareFraction()
	if err != nil {
		return compare.Options{}, err
	}
	if share == 0 {
		// Zero would mean "the default" to compare; gate every kernel instead.
		share = math.SmallestNonzeroFloat64
	}
	return compare.Options{Rules: c.Rules, KernelShare: share, ConfigID: c.ID,
		GroupBy: c.GroupBy, BatchBuckets: append([]int(nil), c.BatchBuckets...)}, nil
}

// NeutralExit returns the exit code gate.yml sets for a neutral verdict
// (no baseline, not comparable), and whether it sets one. The command that
// exits decides the rest.
func (c *Config) NeutralExit(v compare.Verdict) (int, bool) {
	if c == nil {
		return 0, false
	}
	var code *int
	switch v {
	case compare.NoBaseline:
		code = c.Exit.NoBaseline
	case compare.NotComparable:
		code = c.Exit.NotComparable
	}
	if code == nil {
		return 0, false
	}
	return *code, true
}

// ParseOptions maps gate.yml's scope, phase patterns and component rules to
// the parser's options.
func (c *Config) ParseOptions() parse.Options {
	opts := parse.Options{Scope: c.Scope, Domain: c.NVTXDomain, Infer: parse.InferOptions{
		Repeating: c.InferSteps.Repeating, Large: c.InferSteps.Large, MinRepeats: c.InferSteps.MinRepeats}}
	if len(c.Phases) > 0 {
		opts.Phases = map[string][]string{}
		for k, v := range c.Phases {
			opts.Phases[k] = append([]string(nil), v...)
		}
	}
	opts.Components = append(opts.Components, c.Components...)
	return opts
}

// maxIDLen bounds a configuration id: it is part of artifact names.
const maxIDLen = 64

// CheckID says whether id can name a configuration: 1 to 64 letters,
// digits, '.', '_' and '-', starting with a letter or digit. An id names
// artifacts (gate-baseline-ID) and is written in comments and reason lines,
// so it stays plain.
func CheckID(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("%q: longer than %d characters", id, maxIDLen)
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return fmt.Errorf("%q: use letters, digits, '.', '_' and '-', starting with a letter or digit (it names artifacts)", id)
		}
	}
	return nil
}

// Load reads gate.yml from path; an empty path gives the defaults.
func Load(path string) (*Config, error) {
	if path == "" {
		return &Config{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}
