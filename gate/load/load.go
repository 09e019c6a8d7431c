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
	return Loader{}.Summary(ctx, path, opts)
}

// Loader reads profiles as Summary does, within limits; the zero value is
// Summary's.
type Loader struct {
	// MaxGunzip is how many bytes a gzipped export may expand to (default
	// defaultMaxGunzip): a 94 MB file can hold 20 GiB of zeros.
	MaxGunzip int64
	nsys      Nsys
}

// defaultMaxGunzip bounds a decompressed export: the largest real exports
// gate has met are a few hundred MiB.
const defaultMaxGunzip = 8 << 30

// Summary is the package's Summary under l's limits.
func (l Loader) Summary(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	ranks, err := rankPaths(path)
	if err != nil {
		return nil, err
	}
	if len(ranks) > 1 {
		return l.ranks(ctx, ranks, opts)
	}
	return l.one(ctx, path, opts)
}

// rankPaths splits "r0.sqlite,r1.sqlite" into its files, unless a file of
// that very name exists. An empty element ("a,") or a file named twice
// ("a,a", which would count one rank as two devices) is refused, naming
// the argument.
func rankPaths(path string) ([]string, error) {
	if !strings.Contains(path, ",") {
		return nil, nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil, nil
	}
	parts := strings.Split(path, ",")
	seen := map[string]bool{}
	for i, p := range parts {
		switch {
		case strings.TrimSpace(p) == "":
			return nil, fmt.Errorf("%q: rank %d of the comma-separated list is empty", path, i)
		case seen[filepath.Clean(p)]:
			return nil, fmt.Errorf("%q: %s is listed twice; each rank's export once", path, p)
		}
		seen[filepath.Clean(p)] = true
	}
	return parts, nil
}

func (l Loader) ranks(ctx context.Context, paths []string, opts parse.Options) (*parse.Summary, error) {
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

// one loads a single file by what it holds. Only regular files are read:
// opening a named pipe would wait forever for a writer, and /dev/stdin
// cannot be read twice (once to sniff, once by SQLite).
func (l Loader) one(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not a profile", path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s: is not a regular file (%s): gate reads profiles from files; save the stream to a file first", path, fileKind(fi.Mode()))
	}
	if strings.HasSuffix(strings.ToLower(path), ".nsys-rep") {
		return l.report(ctx, path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(16)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return l.gunzip(ctx, br, path, opts)
	case looksJSON(head):
		return decode(br, path)
	}
	f.Close()
	return parse.Export(ctx, path, opts)
}

// fileKind names what a non-regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// report exports an .nsys-rep to a temporary SQLite file and reads that.
func (l Loader) report(ctx context.Context, path string, opts parse.Options) (*parse.Summary, error) {
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

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// gunzip decompresses a gzipped export to a temporary file (SQLite needs a
// file) or decodes a gzipped summary JSON in memory. What the first
// decompressed bytes are decides before anything is written: neither an
// SQLite header nor JSON is refused at once, not after 20 GiB. The export is
// cut off at l.MaxGunzip, and the temporary file is removed on every way
// out, a cancelled ctx (SIGINT, SIGTERM) included.
func (l Loader) gunzip(ctx context.Context, r io.Reader, path string, opts parse.Options) (*parse.Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: bad gzip stream: %w", path, err)
	}
	br := bufio.NewReader(zr)
	head, _ := br.Peek(len(sqliteMagic))
	switch {
	case looksJSON(head):
		return decode(br, path)
	case !bytes.HasPrefix(head, sqliteMagic):
		return nil, fmt.Errorf("%s: the gzip stream holds neither an SQLite export nor a summary JSON (it starts %q)", path, head)
	}
	max := l.MaxGunzip
	if max <= 0 {
		max = defaultMaxGunzip
	}
	tmp, err := os.CreateTemp("", "gate-export-*.sqlite")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, br}, max+1))
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: decompressing: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n > max {
		return nil, fmt.Errorf("%s: expands to more than %d MiB; refusing it (set GATE_MAX_GUNZIP to allow more)", path, max>>20)
	}
	return parse.ExportAs(ctx, tmp.Name(), path, opts)
}

// ctxReader stops reading once ctx is done, so that a signal stops a long
// decompression and the deferred clean-up runs.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
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
