package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/gate/action"
	"github.com/nsys-gate/gate/gate/config"
	"github.com/nsys-gate/gate/gate/load"
	"github.com/nsys-gate/gate/render"
)

const mergeUsage = `usage: gate merge RESULT... [--entries ID,...] [--config gate.yml] [--format text|markdown|json|html] [-o FILE]

Merge the results of several configurations (the legs of a matrix: each
leg's result.json from gate action or gate compare --format json, or the
output directory that holds it) into the report the action's merge mode
posts: a verdict for all, a table with one row per entry (failing entries
first) and each entry's report below. Each result names its entry (its
config_id). An entry listed in --entries without a result is missing, never
passed.

Exit codes: 0 every entry passed or warned, 1 an entry regressed, 2 usage
or input error, 3 an entry is missing, has no baseline or is not
comparable (gate.yml exit: overrides 3 for the last two).

flags:
`

// mergedRenderers maps --format to a merged report's renderer.
var mergedRenderers = map[string]func(w io.Writer, m *render.Merged, opts render.Options) error{
	"markdown": render.MergedMarkdown,
	"md":       render.MergedMarkdown,
	"html":     render.MergedHTML,
	"text":     render.MergedText,
	"json":     func(w io.Writer, m *render.Merged, _ render.Options) error { return render.MergedJSON(w, m) },
}

// runMerge implements `gate merge`.
func (c *Command) runMerge(_ context.Context, args []string) int {
	fs := c.newFlags("gate merge", mergeUsage)
	var entries, cfgPath, format, out string
	fs.StringVar(&entries, "entries", "", "the entry ids expected, comma- or space-separated (default: gate.yml's entries)")
	fs.StringVar(&cfgPath, "config", "", "gate.yml: the expected entries and the exit codes of no baseline and not comparable")
	fs.StringVar(&format, "format", "", "report format: text, markdown, json or html (default: from -o's extension, else text on a terminal, markdown otherwise)")
	fs.StringVar(&out, "o", "", "write the report to this file instead of stdout")
	paths, code, ok := fs.parse(args, true)
	if !ok {
		return code
	}
	if len(paths) == 0 {
		return fs.usageError("want at least one RESULT")
	}
	fail := func(err error) int {
		fmt.Fprintf(c.Stderr, "gate merge: %s\n", errorLine(err))
		return exitError
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fail(err)
	}
	expected := cfg.Entries
	if entries != "" {
		expected = strings.FieldsFunc(entries, func(r rune) bool { return r == ',' || r == ' ' })
	}
	for _, e := range expected {
		if err := config.CheckID(e); err != nil {
			return fail(fmt.Errorf("--entries: %w", err))
		}
	}
	m := &render.Merged{ID: cfg.ID}
	seen := map[string]string{}
	for _, p := range paths {
		res, err := readResult(p)
		if err != nil {
			return fail(err)
		}
		if other, dup := seen[res.ConfigID]; dup {
			return fail(fmt.Errorf("%s: entry %q again (also in %s): each result must name its own entry (gate action's id)", p, res.ConfigID, other))
		}
		seen[res.ConfigID] = p
		m.Entries = append(m.Entries, render.Entry{ID: res.ConfigID, Verdict: res.Verdict, Result: res, ReportURL: res.ReportURL})
		if len(expected) > 0 && !slices.Contains(expected, res.ConfigID) {
			m.Notes = append(m.Notes, fmt.Sprintf("Entry %s (%s) is not in the entries list.", render.EntryID(res.ConfigID), p))
		}
	}
	for _, e := range expected {
		if _, ok := seen[e]; !ok {
			m.Entries = append(m.Entries, render.Entry{ID: e, Verdict: compare.Missing, Why: "no result names this entry"})
		}
	}
	return c.writeMerged(m, cfg, format, out, fail, "gate merge")
}

// readResult reads a result.json (or the one in directory p) and checks
// that it is a gate result.
func readResult(p string) (*compare.Result, error) {
	if isDir(p) {
		p = filepath.Join(p, "result.json")
	}
	data, err := readSmall(p, 256<<20)
	if err != nil {
		return nil, err
	}
	var res compare.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s: not a gate result: %w", p, err)
	}
	switch res.Schema {
	case compare.ResultSchema:
	case render.MergedSchema:
		return nil, fmt.Errorf("%s: a merged report already; merge the legs' result.json files", p)
	default:
		return nil, fmt.Errorf("%s: not a gate result (schema %q, want %q)", p, res.Schema, compare.ResultSchema)
	}
	if res.ConfigID != "" {
		if err := config.CheckID(res.ConfigID); err != nil {
			return nil, fmt.Errorf("%s: config_id: %w", p, err)
		}
	}
	return &res, nil
}

// readSmall reads the regular file p, refusing one over limit bytes.
func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d MiB", p, limit>>20)
	}
	return data, nil
}

// writeMerged renders m in format to out (stdout when empty) and returns
// the exit code of its entries together.
func (c *Command) writeMerged(m *render.Merged, cfg *config.Config, format, out string, fail func(error) int, who string) int {
	if format == "" {
		format = c.defaultFormat(out)
	}
	renderFn, ok := mergedRenderers[format]
	if !ok {
		return fail(fmt.Errorf("--format %q: want text, markdown, json or html", format))
	}
	var buf bytes.Buffer
	if err := renderFn(&buf, m, render.Options{}); err != nil {
		return fail(fmt.Errorf("rendering %s: %w", format, err))
	}
	if code := c.write(out, buf.Bytes(), fail); code != exitOK {
		return code
	}
	codes := make([]int, len(m.Entries))
	var bad []string
	for i, e := range m.Entries {
		codes[i] = exitCode(e.Verdict, action.FailOnFail, cfg)
		if codes[i] != exitOK {
			bad = append(bad, render.EntryID(e.ID)+" "+render.VerdictWords(e.Verdict))
		}
	}
	code := worstExit(codes)
	if code != exitOK {
		sort.Strings(bad)
		fmt.Fprintf(c.Stderr, "%s: %s\n", who, strings.Join(bad, ", "))
	}
	return code
}

// summaryExts are the file names a directory of summaries holds, longest
// first: the entry id is what comes before.
var summaryExts = []string{".summary.json", ".sqlite.gz", ".nsys-rep", ".sqlite", ".json"}

// summariesIn lists a directory of profiles, one per entry: ID.json (a gate
// summary), ID.sqlite, ID.sqlite.gz, ID.nsys-rep, or a directory ID holding
// summary.json (a leg's output directory, a downloaded artifact).
func summariesIn(dir string) (map[string]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, de := range des {
		name, p := de.Name(), filepath.Join(dir, de.Name())
		id := ""
		if de.IsDir() {
			if _, err := os.Stat(filepath.Join(p, load.SummaryFile)); err != nil {
				continue
			}
			id, p = name, filepath.Join(p, load.SummaryFile)
		} else {
			for _, ext := range summaryExts {
				if s, ok := strings.CutSuffix(name, ext); ok {
					id = s
					break
				}
			}
			if id == "" {
				continue
			}
		}
		if err := config.CheckID(id); err != nil {
			return nil, fmt.Errorf("%s: its name is not an entry id: %w", p, err)
		}
		if other, dup := out[id]; dup {
			return nil, fmt.Errorf("%s: entry %q twice (also %s)", dir, id, other)
		}
		out[id] = p
	}
	return out, nil
}

// compareDirs is `gate compare BASE/ HEAD/`: every entry of HEAD/ compared
// with the same entry of BASE/, reported as the merge job reports them.
func (c *Command) compareDirs(ctx context.Context, baseDir, headDir string, f compareFlags) int {
	fail := func(err error) int {
		fmt.Fprintf(c.Stderr, "gate compare: %s\n", errorLine(err))
		return exitError
	}
	if len(f.baseExtra) > 0 || len(f.headExtra) > 0 || f.baseOptional {
		return fail(errors.New("--extra, --base-extra and --base-optional are for two files, not two directories"))
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return fail(err)
	}
	popts := cfg.ParseOptions()
	if f.scope != "" {
		popts.Scope = f.scope
	}
	bases, err := summariesIn(baseDir)
	if err != nil {
		return fail(err)
	}
	heads, err := summariesIn(headDir)
	if err != nil {
		return fail(err)
	}
	var ids []string
	for id := range heads {
		ids = append(ids, id)
	}
	for id := range bases {
		if _, ok := heads[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if f.id != "" {
		if !slices.Contains(ids, f.id) {
			return fail(fmt.Errorf("--id %s: neither %s nor %s holds it (entries: %s)", f.id, baseDir, headDir, strings.Join(ids, ", ")))
		}
		ids = []string{f.id}
	}
	if len(ids) == 0 {
		return fail(fmt.Errorf("%s and %s hold no summaries (ID.json, ID.sqlite[.gz], ID.nsys-rep or ID/summary.json)", baseDir, headDir))
	}
	loader, err := c.loader()
	if err != nil {
		return fail(err)
	}
	m := &render.Merged{ID: cfg.ID}
	for _, id := range ids {
		hp, ok := heads[id]
		if !ok {
			m.Entries = append(m.Entries, render.Entry{ID: id, Verdict: compare.Missing, Why: fmt.Sprintf("%s has no summary for it", headDir)})
			continue
		}
		bp, hasBase := bases[id]
		base, head, err := loadPair(ctx, loader, bp, hp, popts, !hasBase)
		if err != nil {
			return fail(err)
		}
		copts, err := cfg.CompareOptions()
		if err != nil {
			return fail(fmt.Errorf("%s: %w", f.config, err))
		}
		copts.ConfigID = id
		res := compare.Compare(base, head, copts)
		if !hasBase {
			res.Reasons = append([]string{fmt.Sprintf("no baseline: %s has no summary for it", baseDir)}, res.Reasons...)
		}
		m.Entries = append(m.Entries, render.Entry{ID: id, Verdict: res.Verdict, Result: res})
	}
	return c.writeMerged(m, cfg, f.format, f.out, fail, "gate compare")
}
