package compare

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
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
	return fixtureSummaryScoped(tb, name, "")
}

// fixtureSummaryScoped is fixtureSummary with a scope range ("" for the
// whole capture).
func fixtureSummaryScoped(tb testing.TB, name, scope string) *parse.Summary {
	tb.Helper()
	summaryMu.Lock()
	defer summaryMu.Unlock()
	key := name + "\x00" + scope
	if s, ok := summaries[key]; ok {
		return s
	}
	if summaryDir == "" {
		d, err := os.MkdirTemp("", "gate-compare-test-")
		if err != nil {
			tb.Fatal(err)
		}
		summaryDir = d
	}
	path := exporttest.Decompress(tb, filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"), summaryDir)
	return exportFixture(tb, key, path, scope)
}

func exportFixture(tb testing.TB, key, path, scope string) *parse.Summary {
	tb.Helper()
	s, err := parse.Export(context.Background(), path, parse.Options{Scope: scope})
	if err != nil {
		tb.Fatalf("parse.Export(context.Background(), %s, scope %q): %v", path, scope, err)
	}
	summaries[key] = s
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
