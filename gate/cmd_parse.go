package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

const parseUsage = `usage: gate parse PROFILE [-o summary.json] [--scope RANGE] [--config gate.yml] [--extra FILE]... [--format json|table]

Summarise one profile: an Nsight Systems SQLite export (.sqlite), a gzipped
one (.sqlite.gz), a report (.nsys-rep, exported with the nsys on the PATH)
or a summary JSON. Without -o the summary goes to stdout.

flags:
`

// runParse implements `gate parse`.
func (c *Command) runParse(args []string) int {
	fs := flag.NewFlagSet("gate parse", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	out := fs.String("o", "", "write the summary to this file instead of stdout")
	scope := fs.String("scope", "", "NVTX range that bounds the measured window (default: the config's scope, else the whole capture)")
	config := fs.String("config", "", "gate.yml with scope, phase patterns and component rules")
	format := fs.String("format", "json", "output format: json (the summary) or table (for people)")
	var extras ExtraFlag
	fs.Var(&extras, "extra", ExtraFlagUsage)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), parseUsage)
		fs.PrintDefaults()
	}
	profiles, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(c.Stdout)
		fs.Usage()
		return ExitOK
	}
	if err != nil {
		return ExitError
	}
	if len(profiles) != 1 {
		fmt.Fprintf(c.Stderr, "gate parse: want one PROFILE, got %d\n", len(profiles))
		fs.Usage()
		return ExitError
	}
	if *format != "json" && *format != "table" {
		fmt.Fprintf(c.Stderr, "gate parse: --format %q: want json or table\n", *format)
		return ExitError
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate parse: %v\n", oneLine(err))
		return ExitError
	}
	opts := ParseOptions(cfg)
	if *scope != "" {
		opts.Scope = *scope
	}
	s, err := LoadSummary(profiles[0], opts)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate parse: %v\n", oneLine(err))
		return ExitError
	}
	if err := AttachExtra(s, extras...); err != nil {
		fmt.Fprintf(c.Stderr, "gate parse: %v\n", oneLine(err))
		return ExitError
	}
	if s.Source.GateVersion == "" {
		s.Source.GateVersion = version()
	}
	var buf bytes.Buffer
	if *format == "table" {
		err = render.SummaryText(&buf, s)
	} else {
		err = WriteSummaryJSON(&buf, s)
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate parse: %v\n", err)
		return ExitError
	}
	if *out == "" {
		_, err = c.Stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate parse: %v\n", oneLine(err))
		return ExitError
	}
	return ExitOK
}

// ParseOptions maps gate.yml's scope, phase patterns and component rules to
// the parser's options.
func ParseOptions(cfg *Config) parse.Options {
	opts := parse.Options{Scope: cfg.Scope}
	if len(cfg.Phases) > 0 {
		opts.Phases = map[string][]string{}
		for k, v := range cfg.Phases {
			opts.Phases[k] = append([]string(nil), v...)
		}
	}
	for _, r := range cfg.Components {
		opts.Components = append(opts.Components, parse.ComponentRule{Name: r.Name, Match: r.Match})
	}
	return opts
}

// WriteSummaryJSON writes s as indented JSON with stable key order (struct
// order; map keys sorted by encoding/json) and without HTML escaping, so
// kernel names stay readable in diffs.
func WriteSummaryJSON(w io.Writer, s *parse.Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (gate parse x.sqlite -o x.json) and returns the
// positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
