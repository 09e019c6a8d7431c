package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

// TestBudget10000Kernels is the must-hold: a result with 10,000
// distinct kernel names still renders under GitHub's 65,536 characters.
func TestBudget10000Kernels(t *testing.T) {
	r := manyKernels(10000)
	var b bytes.Buffer
	if err := Markdown(&b, r, Options{FullReportURL: "https://example.com/run/1/report.html"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if n := UTF16Len(md); n > CommentBudget {
		t.Fatalf("report is %d characters, over the %d budget", n, CommentBudget)
	}
	for _, want := range []string{Marker("default"), "❌ **gate: fail** — decode · step p50 1.17 → 1.44 ms (+22.7%)", "### Regressions", "<sub>… and 9,979 more</sub>"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	checkInert(t, md)
}

// TestBudgetCuts shrinks the budget and checks that sections go least
// important first, that the report says what was cut, and that it fits.
func TestBudgetCuts(t *testing.T) {
	full := mdString(regressDoubleAttn(), Options{FullReportURL: "https://example.com/r.html"}, commentPlan(), nil, CommentBudget)
	prev := len(full) + 1
	for _, budget := range []int{UTF16Len(full), 2000, 1800, 1600, 1400, 1200, 1000, 800, 500, 200, 50, 1} {
		var b bytes.Buffer
		opts := Options{Budget: budget, FullReportURL: "https://example.com/r.html"}
		if err := Markdown(&b, regressDoubleAttn(), opts); err != nil {
			t.Fatal(err)
		}
		md := b.String()
		if n := UTF16Len(md); n > budget {
			t.Errorf("budget %d: report is %d characters", budget, n)
		}
		if len(md) > prev {
			t.Errorf("budget %d: report grew to %d bytes from %d", budget, len(md), prev)
		}
		prev = len(md)
		if budget == UTF16Len(full) {
			if md != full {
				t.Errorf("budget %d: a report that fits was changed", budget)
			}
			continue
		}
		if budget >= 500 {
			if !strings.HasPrefix(md, Marker("default")+"\n❌ **gate: fail**") {
				t.Errorf("budget %d: marker or verdict lost: %.100q", budget, md)
			}
			if !strings.Contains(md, "✂️ Shortened") || !strings.Contains(md, "(<https://example.com/r.html>)") {
				t.Errorf("budget %d: no note on what was cut with the full report link:\n%s", budget, md)
			}
			checkInert(t, md)
		}
	}
	// 2000 characters drop the details first but keep the regressions and
	// the key numbers.
	var b bytes.Buffer
	if err := Markdown(&b, regressDoubleAttn(), Options{Budget: 2000}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"### Regressions", "### Key numbers", "left out: the rules and parse warnings, the details"} {
		if !strings.Contains(md, want) {
			t.Errorf("budget 2000: lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<details>") {
		t.Error("budget 2000: the details, among the first to go, are still there")
	}
}

func TestLengthCountsUTF16(t *testing.T) {
	for _, c := range []struct {
		s string
		n int
	}{{"abc", 3}, {"µs", 2}, {"❌", 1}, {"✂️", 2}, {"😀", 2}} {
		if got := UTF16Len(c.s); got != c.n {
			t.Errorf("UTF16Len(%q) = %d, want %d", c.s, got, c.n)
		}
	}
	if got := UTF16Prefix("a😀b", 2); got != "a" {
		t.Errorf("prefix split a surrogate pair: %q", got)
	}
}

func BenchmarkMarkdown10000Kernels(b *testing.B) {
	r := manyKernels(10000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Markdown(&buf, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkdown(b *testing.B) {
	r := regressDoubleAttn()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Markdown(&buf, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBudgetHugeStrings: one forged value of a megabyte in every string
// field must not push a comment over budget.
func TestBudgetHugeStrings(t *testing.T) {
	huge := strings.Repeat("x|@y ", 200000)
	r := hostile()
	r.Reasons = []string{huge, huge}
	r.Warnings = []string{huge}
	for i := range r.Metrics {
		r.Metrics[i].Threshold, r.Metrics[i].Note, r.Metrics[i].Unit = huge, huge, compare.Unit(huge)
	}
	for i := range r.Rules {
		r.Rules[i].Warn = huge
	}
	r.Kernels.TopTime[0].Component = huge
	r.Head.GPU.Name, r.Head.Source.Commit = huge, huge
	var b bytes.Buffer
	if err := Markdown(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := UTF16Len(b.String()); n > CommentBudget {
		t.Errorf("report is %d characters", n)
	}
	checkInert(t, b.String())
}
