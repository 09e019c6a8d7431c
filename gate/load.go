package gate

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

// LoadSummary reads a profile in any form gate accepts and returns its
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
// The content decides, not the name, except for .nsys-rep. Errors are one
// line naming path.
//
// A comma-separated list of files that are not themselves a file name is
// one export per rank of a multi-process run (tensor parallelism): each is
// loaded and the summaries are merged with parse.MergeRanks, devices
// numbered by rank.
func LoadSummary(path string, opts parse.Options) (*parse.Summary, error) {
	if ranks := rankPaths(path); len(ranks) > 1 {
		return loadRanks(ranks, opts)
	}
	return loadSummary(context.Background(), path, opts, defaultExporter())
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

func loadRanks(paths []string, opts parse.Options) (*parse.Summary, error) {
	ranks := make([]*parse.Summary, len(paths))
	for i, p := range paths {
		s, err := loadSummary(context.Background(), p, opts, defaultExporter())
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

func loadSummary(ctx context.Context, path string, opts parse.Options, nsys nsysExporter) (*parse.Summary, error) {
	if strings.HasSuffix(strings.ToLower(path), ".nsys-rep") {
		if _, err := os.Stat(path); err != nil {
			return nil, oneLine(err)
		}
		dir, err := os.MkdirTemp("", "gate-nsys-export-")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".sqlite")
		if err := nsys.export(ctx, path, out); err != nil {
			return nil, err
		}
		return parse.ExportAs(ctx, out, path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, oneLine(err)
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
		s, err := parse.DecodeSummary(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	f.Close()
	return parse.Export(ctx, path, opts)
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
		s, err := parse.DecodeSummary(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	tmp, err := os.CreateTemp("", "gate-export-*.sqlite")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, br); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: decompressing: %v", path, oneLine(err))
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parse.ExportAs(ctx, tmp.Name(), path, opts)
}

// looksJSON reports whether a file starts like a JSON object.
func looksJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// oneLine flattens an error to its first line.
func oneLine(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		return fmt.Errorf("%s", msg[:i])
	}
	return err
}
