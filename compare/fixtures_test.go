package compare

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/summarytest"
	"github.com/nsys-gate/gate/parse"
)

var dump = flag.Bool("dump", false, "print every compared metric of the fixture comparisons")

// fixtureSummary decompresses ../testdata/nsys/<name>.sqlite.gz and parses it
// with parse.Export, once per test binary. Callers must not modify it.
func fixtureSummary(tb testing.TB, name string) *parse.Summary {
	return fixtureSummaryScoped(tb, name, "")
}

// fixtureSummaryScoped is fixtureSummary with a scope range ("" for the
// whole capture).
func fixtureSummaryScoped(tb testing.TB, name, scope string) *parse.Summary {
	tb.Helper()
	return summarytest.Export(tb, filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"), parse.Options{Scope: scope})
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
