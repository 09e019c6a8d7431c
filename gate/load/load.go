// Package load turns a profile in any form gate accepts into a
// parse.Summary: an Nsight Systems SQLite export, a gzipped one, an
// .nsys-rep report (exported with nsys, see Nsys), a summary JSON, or a
// comma-separated list of per-rank exports. Start at Summary; Extra adds
// the metrics of outside files (vLLM results, /metrics scrapes, logs,
// gate's metrics JSON) to a summary.
package load

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// SummaryFile is the name gate gives a summary it writes: `gate profile`'s
// DIR/summary.json, the action's output and the baseline artifact it looks
// for.
const SummaryFile = "summary.json"

// Summary reads a profile in any form gate accepts and returns its
// Summary:
//
//   - an Nsight Systems SQLite export (.sqlite), read in place;
//   - a gzipped export (.sqlite.gz), decompressed to a temporary file that
//     is removed afterwards;
//   - an Nsight Systems report (.nsys-rep), exported with `nsys export
//     --type sqlite` (nsys from the PATH) to a temporary file;
//   - a summary JSON written by gate (or the seed's legacy summary.json),
//     gzipped or not.
//
// The content decides, not the name, except for .nsys-rep. Errors name
// path.
//
// A comma-separated list of files that are not themselves a file name is
// one export per rank of a multi-process run (tensor parallelism): each is
// loaded and the summaries are merged with parse.MergeRanks, devices
// numbered by rank.
func Summary(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	return loader{nsys: Nsys{}}.summary(ctx, path, opts)
}

// loader reads profiles, exporting reports with nsys.
type loader struct {
	nsys Nsys
}

func (l loader) summary(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	if ranks := rankPaths(path); len(ranks) > 1 {
		return l.ranks(ctx, ranks, opts)
	}
	return l.one(ctx, path, opts)
}

// rankPaths splits "r0.sqlite,r1.sqlite" into its files, unless a file of
// that very name exists.
func rankPaths(path string) []string {
	if !strings.Contains(path, ",") {
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return strings.Split(path, ",")
}

func (l loader) ranks(ctx context.Context, paths []string, opts parse.Options) (*parse.Summary, error) {
	ranks := make([]*parse.Summary, len(paths))
	for i, p := range paths {
		s, err := l.one(ctx, p, opts)
		if err != nil {
			return nil, err
		}
		ranks[i] = s
	}
	s, err := parse.MergeRanks(ranks)
	if err != nil {
		return nil, fmt.Errorf("merging ranks %s: %w", strings.Join(paths, ","), err)
	}
	return s, nil
}

// one loads a single file by what it holds.
func (l loader) one(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	if strings.HasSuffix(strings.ToLower(path), ".nsys-rep") {
		return l.report(ctx, path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a profile", path)
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(16)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return loadGzip(ctx, br, path, opts)
	case looksJSON(head):
		return decode(br, path)
	}
	f.Close()
	return parse.Export(ctx, path, opts)
}

// report exports an .nsys-rep to a temporary SQLite file and reads that.
func (l loader) report(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gate-nsys-export-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".sqlite")
	if err := l.nsys.Export(ctx, path, out); err != nil {
		return nil, err
	}
	return parse.ExportAs(ctx, out, path, opts)
}

// loadGzip decompresses a gzipped export to a temporary file (SQLite needs
// a file) or decodes a gzipped summary JSON in memory.
func loadGzip(ctx context.Context, r io.Reader, path string, opts parse.Options) (*parse.Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: bad gzip stream: %w", path, err)
	}
	br := bufio.NewReader(zr)
	head, _ := br.Peek(16)
	if looksJSON(head) {
		return decode(br, path)
	}
	tmp, err := os.CreateTemp("", "gate-export-*.sqlite")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, br); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: decompressing: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parse.ExportAs(ctx, tmp.Name(), path, opts)
}

// decode reads a summary JSON, naming path in errors.
func decode(r io.Reader, path string) (*parse.Summary, error) {
	s, err := parse.DecodeSummary(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// looksJSON reports whether a file starts like a JSON object.
func looksJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}
