package gate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/config"
)

const rulesUsage = `usage: gate rules [--config gate.yml] [--format text|yaml]

Print the effective rules in the order they are tried: the rules of
gate.yml first, then gate's built-in defaults. The first rule whose metric
glob matches a metric decides how it is judged. --format yaml prints them as
a gate.yml rules list to start from.

flags:
`

// runRules implements `gate rules`.
func (c *Command) runRules(ctx context.Context, args []string) int {
	fs := c.newFlags("gate rules", rulesUsage)
	configPath := fs.String("config", "", "gate.yml whose rules come first")
	format := fs.String("format", "text", "output format: text or yaml")
	rest, code, ok := fs.parse(args, true)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		return fs.usageError("unexpected argument %q", rest[0])
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate rules: %s\n", errorLine(err))
		return exitError
	}
	for _, w := range compare.RuleWarnings(cfg.Rules) {
		fmt.Fprintf(c.Stderr, "gate rules: warning: %s: %s\n", configName(*configPath), w)
	}
	var buf bytes.Buffer
	switch *format {
	case "text":
		err = writeRulesText(&buf, cfg, *configPath)
	case "yaml":
		err = writeRulesYAML(&buf, cfg)
	default:
		fmt.Fprintf(c.Stderr, "gate rules: --format %q: want text or yaml\n", *format)
		return exitError
	}
	if err == nil {
		_, err = c.Stdout.Write(buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate rules: %s\n", errorLine(err))
		return exitError
	}
	return exitOK
}

// kernelShareText shows the configured kernel share as a percentage.
func kernelShareText(cfg *config.Config) string {
	share, err := cfg.KernelShareFraction()
	if err != nil {
		share = compare.DefaultKernelShare
	}
	return strconv.FormatFloat(share*100, 'g', -1, 64) + "%"
}

// writeRulesText prints a table of the effective rules.
func writeRulesText(w io.Writer, cfg *config.Config, configPath string) error {
	fmt.Fprintf(w, "kernel-share: %s (single kernels below this share of kernel time are informational)\n", kernelShareText(cfg))
	if cfg.GroupBy != "" {
		fmt.Fprintf(w, "group-by: %s %v (decode steps compared per batch size)\n", cfg.GroupBy, cfg.BatchBuckets)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tMETRIC\tKIND\tBETTER\tWARN\tFAIL\tFLOOR\tFROM")
	from := configName(configPath)
	for i, r := range compare.EffectiveRules(cfg.Rules) {
		src := "default"
		if i < len(cfg.Rules) {
			src = from
		}
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		kind, better := dash(string(r.Kind)), r.Better
		if better == "" {
			better = "(metric)"
		}
		warn, fail, floor := dash(r.Warn), dash(r.Fail), dash(r.Floor)
		if r.Ignore {
			warn, fail, floor = "ignore", "ignore", "-"
		} else if r.Warn == "" && r.Fail == "" {
			warn, fail = "info", "info"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, r.Metric, kind, better, warn, fail, floor, src)
	}
	return tw.Flush()
}

// writeRulesYAML prints the effective rules as a gate.yml fragment that
// config.Parse reads back.
func writeRulesYAML(w io.Writer, cfg *config.Config) error {
	doc := struct {
		KernelShare  string         `yaml:"kernel-share"`
		GroupBy      string         `yaml:"group-by,omitempty"`
		BatchBuckets []int          `yaml:"batch-buckets,omitempty,flow"`
		Rules        []compare.Rule `yaml:"rules"`
	}{kernelShareText(cfg), cfg.GroupBy, cfg.BatchBuckets, compare.EffectiveRules(cfg.Rules)}
	fmt.Fprintln(w, "# Effective gate rules: tried in order, the first matching rule wins.")
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// configName names the config file in messages.
func configName(path string) string {
	if path == "" {
		return "gate.yml"
	}
	return path
}
