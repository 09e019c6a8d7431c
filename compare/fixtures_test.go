package compare

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

var dump = flag.Bool("dump", false, "print every compared metric of the fixture comparisons")

var (
	summaryMu  sync.Mutex
	summaryDir string
	summaries  = map[string]*parse.Summary{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if summaryDir != "" {
		os.RemoveAll(summaryDir)
	}
	os.Exit(code)
}

// fixtureSummary decompresses ../testdata/nsys/<name>.sqlite.gz and parses it
// with parse.Export, once per test binary. Callers must not modify it.
func fixtureSummary(tb testing.TB, name string) *parse.Summary {
	tb.Helper()
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if s, ok := summaries[name]; ok {
		return s
	}
	if summaryDir == "" {
		d, err := os.MkdirTemp("", "gate-compare-test-")
		if err != nil {
			tb.Fatal(err)
		}
		summaryDir = d
	}
	in, err := os.Open(filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(summaryDir, name+".sqlite")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(f, zr); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	s, err := parse.Export(path, parse.Options{})
	if err != nil {
		tb.Fatalf("parse.Export(%s): %v", name, err)
	}
	summaries[name] = s
	return s
}

// dumpResult prints a result's metrics when -dump is given.
func dumpResult(t *testing.T, r *Result) {
	if !*dump {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s %v counts %+v\n", r.Verdict, r.Reasons, r.Counts)
	for _, m := range r.Metrics {
		ci := ""
		if m.CI != nil {
			ci = fmt.Sprintf("[%.2f%%, %.2f%%]", m.CI.Lo, m.CI.Hi)
		}
		fmt.Fprintf(&b, "%-5s %-60s %14.4g %14.4g %8.2f%% p=%.3g %s n=%d/%d %s %s\n", m.Verdict, m.Name, m.Base, m.Head, m.DeltaPct, m.P, ci, m.NBase, m.NHead, m.Threshold, m.Note)
	}
	fmt.Fprintf(&b, "added %d removed %d variant %d\n", len(r.Kernels.Added), len(r.Kernels.Removed), len(r.Kernels.Variant))
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	t.Log(b.String())
}
