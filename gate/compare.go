package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/render"
)

const compareUsage = `usage: gate compare BASE HEAD [--id ID] [--config gate.yml] [--format text|markdown|json|html] [-o FILE]

Compare a head profile with a base profile and print the report. BASE and
HEAD are each an Nsight Systems export (.sqlite, .sqlite.gz, .nsys-rep) or a
summary JSON from gate parse (or the older summary.json layout), so a stored
baseline and a fresh profile mix freely. --id names the configuration (it
keys the comment's marker).

BASE and HEAD may also be two directories holding one profile per entry
(ID.json, ID.sqlite, ID.sqlite.gz, ID.nsys-rep, or ID/summary.json, as a
matrix's legs write them): each entry of HEAD is compared with the same
entry of BASE and the report is the merged one that the action's merge mode
posts. --id then picks one entry. An entry only BASE has is missing; one
only HEAD has has no baseline.

Without --format the report is text on a terminal and markdown (the PR
comment) otherwise: in CI, into a pipe, or into a file; -o picks the format
from the file's extension (.html, .json, .txt, .md).

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

// compareFlags are the flags of `gate compare`.
type compareFlags struct {
	config, format, out, scope, id string
	baseExtra, headExtra           extraFlag
	baseOptional                   bool
}

// runCompare implements `gate compare`.
func (c *Command) runCompare(ctx context.Context, args []string) int {
	fs := c.newFlags("gate compare", compareUsage)
	var f compareFlags
	fs.StringVar(&f.config, "config", "", "gate.yml with rules, scope, phases and exit codes")
	fs.StringVar(&f.format, "format", "", "report format: text, markdown, json or html (default: from -o's extension, else text on a terminal, markdown otherwise)")
	fs.StringVar(&f.out, "o", "", "write the report to this file instead of stdout")
	fs.StringVar(&f.scope, "scope", "", "NVTX range that bounds the measured window of exports (default: the config's scope)")
	fs.Var(&f.baseExtra, "base-extra", "like --extra, for BASE")
	fs.Var(&f.headExtra, "extra", "for HEAD: "+extraUsage)
	fs.BoolVar(&f.baseOptional, "base-optional", false, "a missing BASE file gives the no-baseline verdict instead of an input error")
	fs.StringVar(&f.id, "id", "", "the configuration's id (default: the config's); with two directories, the one entry to compare")
	paths, code, ok := fs.parse(args, true)
	if !ok {
		return code
	}
	if len(paths) != 2 {
		return fs.usageError("want BASE and HEAD, got %d argument(s)", len(paths))
	}
	if f.id != "" {
		if err := config.CheckID(f.id); err != nil {
			return fs.usageError("--id: %v", err)
		}
	}
	switch bd, hd := isDir(paths[0]), isDir(paths[1]); {
	case bd && hd:
		return c.compareDirs(ctx, paths[0], paths[1], f)
	case bd != hd:
		return fs.usageError("BASE and HEAD must both be files or both be directories")
	}
	return c.compare(ctx, paths[0], paths[1], f)
}

// compare loads base and head, compares them under the configuration and
// writes the report; the verdict decides the exit code.
func (c *Command) compare(ctx context.Context, basePath, headPath string, f compareFlags) int {
	fail := func(err error) int {
		fmt.Fprintf(c.Stderr, "gate compare: %s\n", errorLine(err))
		return exitError
	}
	format := f.format
	if format == "" {
		format = c.defaultFormat(f.out)
	}
	renderFn, ok := renderers[format]
	if !ok {
		return fail(fmt.Errorf("--format %q: want text, markdown, json or html", f.format))
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return fail(err)
	}
	copts, err := cfg.CompareOptions()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", f.config, err))
	}
	if f.id != "" {
		copts.ConfigID = f.id
	}
	popts := cfg.ParseOptions()
	if f.scope != "" {
		popts.Scope = f.scope
	}
	noBase := false
	if f.baseOptional {
		if _, err := os.Stat(basePath); errors.Is(err, fs.ErrNotExist) {
			noBase = true
		}
	}
	loader, err := c.loader()
	if err != nil {
		return fail(err)
	}
	base, head, err := loadPair(ctx, loader, basePath, headPath, popts, noBase)
	if err != nil {
		return fail(err)
	}
	if base != nil {
		if err := load.Extra(base, f.baseExtra...); err != nil {
			return fail(err)
		}
	}
	if err := load.Extra(head, f.headExtra...); err != nil {
		return fail(err)
	}

	res := compare.Compare(base, head, copts)
	ropts := render.Options{}
	if base != nil {
		ropts.BaselineCommit = base.Source.Commit
	}
	var buf bytes.Buffer
	if err := renderFn(&buf, res, ropts); err != nil {
		return fail(fmt.Errorf("rendering %s: %w", format, err))
	}
	if code := c.write(f.out, buf.Bytes(), fail); code != exitOK {
		return code
	}
	code := exitCode(res.Verdict, action.FailOnFail, cfg)
	if code != exitOK {
		fmt.Fprintf(c.Stderr, "gate compare: %s\n", verdictLine(res))
	}
	return code
}

// isDir reports whether p is a directory.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// defaultFormat is the report format when --format is not given: the one
// -o's extension names, else text for a person at a terminal and markdown
// for CI and pipes (what the action and scripts expect).
func (c *Command) defaultFormat(out string) string {
	if out != "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".html", ".htm":
			return "html"
		case ".json":
			return "json"
		case ".txt", ".text":
			return "text"
		}
		return "markdown"
	}
	if c.Getenv("CI") != "" || c.Getenv("GITHUB_ACTIONS") != "" {
		return "markdown"
	}
	if c.terminal(c.Stdout) {
		return "text"
	}
	return "markdown"
}

// loadPair loads base and head at once (parsing an export is CPU-bound and
// the two are independent). With skipBase, base is nil.
func loadPair(ctx context.Context, l load.Loader, basePath, headPath string, opts parse.Options, skipBase bool) (base, head *parse.Summary, err error) {
	type loaded struct {
		s   *parse.Summary
		err error
	}
	ch := make(chan loaded, 1)
	if !skipBase {
		go func() {
			s, err := l.Summary(ctx, basePath, opts)
			ch <- loaded{s, err}
		}()
	}
	head, herr := l.Summary(ctx, headPath, opts)
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
// is not 0, so that a CI log says why the step failed, in the words the
// report uses ("not comparable: trace mode differs ...").
func verdictLine(r *compare.Result) string {
	words := render.VerdictWords(r.Verdict)
	switch r.Verdict {
	case compare.Fail:
		return fmt.Sprintf("%s: %d regression(s), %d warning(s)", words, r.Counts.Fail, r.Counts.Warn)
	case compare.NotComparable, compare.NoBaseline:
		if len(r.Reasons) > 0 {
			return words + ": " + strings.Join(r.Reasons, "; ")
		}
	}
	return words
}
