package gate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/nsys-gate/gate/compare"
)

const rulesUsage = `usage: gate rules [--config gate.yml] [--format text|yaml]

Print the effective rules in the order they are tried: the rules of
gate.yml first, then gate's built-in defaults. The first rule whose metric
glob matches a metric decides how it is judged. --format yaml prints them as
a gate.yml rules list to start from.

flags:
`

// runRules implements `gate rules`.
func (c *Command) runRules(args []string) int {
	fs := flag.NewFlagSet("gate rules", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	config := fs.String("config", "", "gate.yml whose rules come first")
	format := fs.String("format", "text", "output format: text or yaml")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), rulesUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(c.Stdout)
		fs.Usage()
		return ExitOK
	}
	if err != nil {
		return ExitError
	}
	if len(rest) != 0 {
		fmt.Fprintf(c.Stderr, "gate rules: unexpected argument %q\n", rest[0])
		return ExitError
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate rules: %v\n", oneLine(err))
		return ExitError
	}
	var buf bytes.Buffer
	switch *format {
	case "text":
		err = writeRulesText(&buf, cfg, *config)
	case "yaml":
		err = writeRulesYAML(&buf, cfg)
	default:
		fmt.Fprintf(c.Stderr, "gate rules: --format %q: want text or yaml\n", *format)
		return ExitError
	}
	if err == nil {
		_, err = c.Stdout.Write(buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate rules: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// kernelShareText shows the configured kernel share as a percentage.
func kernelShareText(cfg *Config) string {
	share, err := cfg.kernelShare()
	if err != nil {
		share = compare.DefaultKernelShare
	}
	return strconv.FormatFloat(share*100, 'g', -1, 64) + "%"
}

// writeRulesText prints a table of the effective rules.
func writeRulesText(w io.Writer, cfg *Config, configPath string) error {
	fmt.Fprintf(w, "kernel-share: %s (single kernels below this share of kernel time are informational)\n\n", kernelShareText(cfg))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tMETRIC\tKIND\tBETTER\tWARN\tFAIL\tFLOOR\tFROM")
	from := configPath
	if from == "" {
		from = "gate.yml"
	}
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
// ParseConfig reads back.
func writeRulesYAML(w io.Writer, cfg *Config) error {
	doc := struct {
		KernelShare string         `yaml:"kernel-share"`
		Rules       []compare.Rule `yaml:"rules"`
	}{kernelShareText(cfg), compare.EffectiveRules(cfg.Rules)}
	fmt.Fprintln(w, "# Effective gate rules: tried in order, the first matching rule wins.")
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
