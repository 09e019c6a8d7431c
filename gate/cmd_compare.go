package gate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

const compareUsage = `usage: gate compare BASE HEAD [--config gate.yml] [--format markdown|json|html|text] [-o FILE]

Compare a head profile with a base profile and print the report. BASE and
HEAD are each an Nsight Systems export (.sqlite, .sqlite.gz, .nsys-rep) or a
summary JSON from gate parse (or the older summary.json layout), so a stored
baseline and a fresh profile mix freely.

Exit codes: 0 pass or warn, 1 a gated metric regressed, 2 usage or input
error, 3 no baseline or not comparable (gate.yml exit: overrides 3).

flags:
`

// renderers maps --format to a renderer.
var renderers = map[string]func(w io.Writer, r *compare.Result, opts render.Options) error{
	"markdown": render.Markdown,
	"md":       render.Markdown,
	"html":     render.HTML,
	"text":     render.Text,
	"json":     func(w io.Writer, r *compare.Result, _ render.Options) error { return render.JSON(w, r) },
}

// runCompare implements `gate compare`.
func (c *Command) runCompare(args []string) int {
	fset := flag.NewFlagSet("gate compare", flag.ContinueOnError)
	fset.SetOutput(c.Stderr)
	config := fset.String("config", "", "gate.yml with rules, scope, phases and exit codes")
	format := fset.String("format", "markdown", "report format: markdown, json, html or text")
	out := fset.String("o", "", "write the report to this file instead of stdout")
	scope := fset.String("scope", "", "NVTX range that bounds the measured window of exports (default: the config's scope)")
	var baseExtra, headExtra ExtraFlag
	fset.Var(&baseExtra, "base-extra", "like --extra, for BASE")
	fset.Var(&headExtra, "extra", "for HEAD: "+ExtraFlagUsage)
	baseOptional := fset.Bool("base-optional", false, "a missing BASE file gives the no-baseline verdict instead of an input error")
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), compareUsage)
		fset.PrintDefaults()
	}
	paths, err := parseInterleaved(fset, args)
	if errors.Is(err, flag.ErrHelp) {
		fset.SetOutput(c.Stdout)
		fset.Usage()
		return ExitOK
	}
	if err != nil {
		return ExitError
	}
	if len(paths) != 2 {
		fmt.Fprintf(c.Stderr, "gate compare: want BASE and HEAD, got %d argument(s)\n", len(paths))
		fset.Usage()
		return ExitError
	}
	renderFn, ok := renderers[*format]
	if !ok {
		fmt.Fprintf(c.Stderr, "gate compare: --format %q: want markdown, json, html or text\n", *format)
		return ExitError
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: %v\n", oneLine(err))
		return ExitError
	}
	copts, err := cfg.CompareOptions()
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: %s: %v\n", *config, err)
		return ExitError
	}
	popts := ParseOptions(cfg)
	if *scope != "" {
		popts.Scope = *scope
	}

	basePath, headPath := paths[0], paths[1]
	noBase := false
	if *baseOptional {
		if _, err := os.Stat(basePath); errors.Is(err, fs.ErrNotExist) {
			noBase = true
		}
	}
	base, head, err := loadPair(basePath, headPath, popts, noBase)
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: %v\n", oneLine(err))
		return ExitError
	}

	if base != nil {
		if err := AttachExtra(base, baseExtra...); err != nil {
			fmt.Fprintf(c.Stderr, "gate compare: %v\n", oneLine(err))
			return ExitError
		}
	}
	if err := AttachExtra(head, headExtra...); err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: %v\n", oneLine(err))
		return ExitError
	}

	res := compare.Compare(base, head, copts)
	ropts := render.Options{}
	if base != nil {
		ropts.BaselineCommit = base.Source.Commit
	}
	var buf bytes.Buffer
	if err := renderFn(&buf, res, ropts); err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: rendering %s: %v\n", *format, err)
		return ExitError
	}
	if *out == "" {
		_, err = c.Stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "gate compare: %v\n", oneLine(err))
		return ExitError
	}
	code := cfg.ExitCode(res.Verdict)
	if code != ExitOK {
		fmt.Fprintf(c.Stderr, "gate compare: %s\n", verdictLine(res))
	}
	return code
}

// loadPair loads base and head at once (parsing an export is CPU-bound and
// the two are independent). With skipBase, base is nil.
func loadPair(basePath, headPath string, opts parse.Options, skipBase bool) (base, head *parse.Summary, err error) {
	type loaded struct {
		s   *parse.Summary
		err error
	}
	ch := make(chan loaded, 1)
	if !skipBase {
		go func() {
			s, err := LoadSummary(basePath, opts)
			ch <- loaded{s, err}
		}()
	}
	head, herr := LoadSummary(headPath, opts)
	if !skipBase {
		b := <-ch
		if b.err != nil {
			return nil, nil, b.err
		}
		base = b.s
	}
	if herr != nil {
		return nil, nil, herr
	}
	return base, head, nil
}

// verdictLine is the one-line verdict printed to stderr when the exit code
// is not 0, so that a CI log says why the step failed.
func verdictLine(r *compare.Result) string {
	switch r.Verdict {
	case compare.Fail:
		return fmt.Sprintf("fail: %d regression(s), %d warning(s)", r.Counts.Fail, r.Counts.Warn)
	case compare.NotComparable, compare.NoBaseline:
		msg := string(r.Verdict)
		for _, why := range r.Reasons {
			msg += "; " + why
		}
		return msg
	}
	return string(r.Verdict)
}
