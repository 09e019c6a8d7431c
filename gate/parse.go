package gate

import (
	"bytes"
	"context"
	"fmt"

	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/internal/safefile"
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
func (c *Command) runParse(ctx context.Context, args []string) int {
	fs := c.newFlags("gate parse", parseUsage)
	out := fs.String("o", "", "write the summary to this file instead of stdout")
	scope := fs.String("scope", "", "NVTX range that bounds the measured window (default: the config's scope, else the whole capture)")
	configPath := fs.String("config", "", "gate.yml with scope, phase patterns and component rules")
	format := fs.String("format", "json", "output format: json (the summary) or table (for people)")
	var extras extraFlag
	fs.Var(&extras, "extra", extraUsage)
	profiles, code, ok := fs.parse(args, true)
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(c.Stderr, "gate parse: %s\n", errorLine(err))
		return exitError
	}
	if len(profiles) != 1 {
		return fs.usageError("want one PROFILE, got %d", len(profiles))
	}
	if *format != "json" && *format != "table" {
		return fail(fmt.Errorf("--format %q: want json or table", *format))
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return fail(err)
	}
	opts := cfg.ParseOptions()
	if *scope != "" {
		opts.Scope = *scope
	}
	loader, err := c.loader()
	if err != nil {
		return fail(err)
	}
	s, err := loader.Summary(ctx, profiles[0], opts)
	if err != nil {
		return fail(err)
	}
	if err := load.Extra(s, extras...); err != nil {
		return fail(err)
	}
	if s.Source.GateVersion == "" {
		s.Source.GateVersion = version()
	}
	var buf bytes.Buffer
	if *format == "table" {
		err = render.SummaryText(&buf, s)
	} else {
		err = parse.EncodeSummary(&buf, s)
	}
	if err != nil {
		return fail(err)
	}
	return c.write(*out, buf.Bytes(), fail)
}

// write puts a command's output in the file path, or on stdout when path is
// empty.
func (c *Command) write(path string, data []byte, fail func(error) int) int {
	var err error
	if path == "" {
		_, err = c.Stdout.Write(data)
	} else {
		err = safefile.Write(path, data)
	}
	if err != nil {
		return fail(err)
	}
	return exitOK
}
