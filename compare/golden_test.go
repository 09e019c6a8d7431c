package compare

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/compare/*.golden from the current results")

// verdictDigest is the part of a result a reviewer checks on the fixtures:
// the verdict, its reasons, the ranked regressions (the first names the
// cause) and improvements, every metric that did not pass (name and verdict
// only, so parser refinements of the numbers don't churn it) and the kernel
// set changes.
func verdictDigest(r *Result) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	for _, why := range r.Reasons {
		fmt.Fprintf(&b, "reason: %s\n", why)
	}
	for i, f := range r.Regressions {
		fmt.Fprintf(&b, "regression %d: %s (%s)\n", i+1, f.Metric, f.Class)
	}
	for i, f := range r.Improvements {
		fmt.Fprintf(&b, "improvement %d: %s (%s)\n", i+1, f.Metric, f.Class)
	}
	for _, m := range r.Metrics {
		if m.Verdict == Fail || m.Verdict == Warn {
			fmt.Fprintf(&b, "%s %s\n", m.Verdict, m.Name)
		}
	}
	for _, c := range r.Kernels.Added {
		fmt.Fprintf(&b, "added kernel %s\n", c.Head)
	}
	for _, c := range r.Kernels.Removed {
		fmt.Fprintf(&b, "removed kernel %s\n", c.Base)
	}
	for _, c := range r.Kernels.Variant {
		fmt.Fprintf(&b, "variant %s: %s -> %s\n", c.Match, c.Base, c.Head)
	}
	return b.Bytes()
}

// TestGoldenVerdicts pins which metrics fail or warn for each fixture pair,
// and each shipped regression swapped (the fix as head). Run with -update
// after an intended change and review the diff.
func TestGoldenVerdicts(t *testing.T) {
	var pairs [][2]string
	for _, head := range []string{"base_b", "regress_double_attn", "regress_no_graphs", "regress_host_sync", "base_graphmode", "vllm_real"} {
		pairs = append(pairs, [2]string{"base_a", head})
	}
	for _, base := range []string{"regress_double_attn", "regress_no_graphs", "regress_host_sync"} {
		pairs = append(pairs, [2]string{base, "base_a"})
	}
	for _, p := range pairs {
		t.Run(p[0]+"_vs_"+p[1], func(t *testing.T) {
			r := Compare(fixtureSummary(t, p[0]), fixtureSummary(t, p[1]), Options{})
			got := verdictDigest(r)
			path := filepath.Join("..", "testdata", "compare", p[0]+"_vs_"+p[1]+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}
