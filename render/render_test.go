package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/render")

// formats are the four writers under test, by golden file extension.
var formats = []struct {
	ext   string
	write func(*bytes.Buffer, *compare.Result) error
}{
	{"md", func(b *bytes.Buffer, r *compare.Result) error { return Markdown(b, r, Options{}) }},
	{"html", func(b *bytes.Buffer, r *compare.Result) error { return HTML(b, r, Options{}) }},
	{"txt", func(b *bytes.Buffer, r *compare.Result) error { return Text(b, r, Options{}) }},
	{"json", func(b *bytes.Buffer, r *compare.Result) error { return JSON(b, r) }},
}

// golden compares got with ../testdata/render/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "render", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./render -update rewrites it):\n%s", name, firstDiff(want, got))
	}
}

// firstDiff shows the first line where got departs from want.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return "(same lines, different bytes)"
}

var handBuilt = []struct {
	name   string
	result func() *compare.Result
}{
	{"regress_double_attn", regressDoubleAttn},
	{"pass", pass},
	{"not_comparable", notComparable},
	{"no_baseline", noBaseline},
	{"hostile", hostile},
	{"tensor_parallel", tensorParallel},
}

func TestGolden(t *testing.T) {
	for _, c := range handBuilt {
		for _, f := range formats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.write(&b, c.result()); err != nil {
					t.Fatal(err)
				}
				golden(t, c.name+"."+f.ext, b.Bytes())
			})
		}
	}
}

// TestDeterministic renders each result twice: map order or clocks would
// make the two differ.
func TestDeterministic(t *testing.T) {
	for _, c := range handBuilt {
		for _, f := range formats {
			var a, b bytes.Buffer
			if err := f.write(&a, c.result()); err != nil {
				t.Fatal(err)
			}
			if err := f.write(&b, c.result()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s.%s: two renderings differ", c.name, f.ext)
			}
		}
	}
}

func TestNilResult(t *testing.T) {
	var b bytes.Buffer
	for _, f := range formats {
		if err := f.write(&b, nil); err == nil {
			t.Errorf("%s: nil result: no error", f.ext)
		}
		b.Reset()
		if err := f.write(&b, &compare.Result{}); err != nil || b.Len() == 0 {
			t.Errorf("%s: empty result: %v, %d bytes", f.ext, err, b.Len())
		}
	}
}

func TestMarkdownLayout(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, regressDoubleAttn(), Options{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	lines := strings.Split(md, "\n")
	if lines[0] != Marker("default") {
		t.Errorf("first line = %q, want the marker %q", lines[0], Marker("default"))
	}
	// A result without compare's ranking (an older result JSON) still
	// names the step time, in words.
	if want := "❌ **gate: fail** — decode step p50 +22.7% (1.17 → 1.44 ms); 7 regressions, 2 warnings, 13 passed, 3 not gated"; lines[1] != want {
		t.Errorf("verdict line = %q, want %q", lines[1], want)
	}
	// Sections in the order DESIGN.md gives, the details folded.
	order := []string{"### Regressions and warnings", "### Prefill and decode", "### Bandwidth", "### Kernels", "### Components", "<details><summary>Details"}
	last := -1
	for _, s := range order {
		i := strings.Index(md, s)
		if i < 0 {
			t.Errorf("no %q", s)
			continue
		}
		if i < last {
			t.Errorf("%q out of order", s)
		}
		last = i
	}
	// The worst regression is named first, with its numbers.
	reg := md[strings.Index(md, "### Regressions"):strings.Index(md, "### Prefill")]
	first := strings.Split(reg, "\n")[4]
	if !strings.Contains(first, "kernels."+sdpa+".per_step") || !strings.Contains(first, "+100.0%") {
		t.Errorf("first regression row = %q, want the attention kernel's launches per step, +100%%", first)
	}
	for _, want := range []string{
		"`phases.decode.span.p50` | 1.17 ms | 1.44 ms | **+22.7%** | \\[+22.1%, +23.4%\\] p&lt;0.001",
		"| step span p50 | 18.2 ms → 17.5 ms | **-4.1%** ⚠️ | 1.17 ms → 1.44 ms | **+22.7%** ❌ |",
		"too few samples (2 vs 2)",
		"```mermaid\nxychart-beta",
		"Peak DRAM bandwidth: 4.81 TB/s.",
		"1.21 TB/s → 1.19 TB/s",
		"25.1% → 24.7%", // DtoD copies as a share of peak
		"baseline commit `4f2c1e9`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestNeutralVerdicts(t *testing.T) {
	for _, c := range []struct {
		r    *compare.Result
		want []string
	}{
		{notComparable(), []string{"⚪ **gate: not comparable**", "trace mode differs", "| ≠ CUDA graph trace | node | graph |"}},
		{noBaseline(), []string{"⚪ **gate: no baseline**", "no baseline artifact", Marker("llama-8b/h200")}},
	} {
		var b bytes.Buffer
		if err := Markdown(&b, c.r, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s report lacks %q:\n%s", c.r.Verdict, w, b.String())
			}
		}
		if strings.Contains(b.String(), "pass") {
			t.Errorf("%s report says pass:\n%s", c.r.Verdict, b.String())
		}
	}
}

func TestOtherSections(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, tensorParallel(), Options{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"⚠️ **gate: warn** — 4 warnings, 6 passed, 4 not gated",
		"### Serving metrics",
		"| `extra.ttft_p50` | 41.2 ms → 44 ms | +6.8% | ⚠️ warn |",
		"| `extra.output_throughput` | 10,850 tok/s → 10,420 tok/s | -4.0% | ✅ pass |",
		"### Devices and communication",
		"| `communication.exposed_pct` | 8.1% → 11.9% | +3.8 pp | ⚠️ warn |",
		"| Kernel (Nsight Compute) | DRAM bytes/launch (base → head) |",
		"| 4.19 MB → 8.39 MB | **+100.2%** ⚠️ | 1.92 TB/s → 2.95 TB/s | +53.6% | 39.9% → 61.3% | ⚠️ warn |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestFingerprintMarks(t *testing.T) {
	r := notComparable()
	r.Head.Source.NsysVersion = "2025.3.2.0" // minor versions compare fine
	r.Head.GPU.Devices = 2
	tb := fingerprintTable(r)
	marked := map[string]bool{}
	for _, row := range tb.rows {
		if l := row[0][0].s; strings.HasPrefix(l, "≠ ") {
			marked[strings.TrimPrefix(l, "≠ ")] = true
		}
	}
	for _, k := range []string{"CUDA graph trace", "Devices"} {
		if !marked[k] {
			t.Errorf("%s differs but is not marked", k)
		}
	}
	if marked["Nsight Systems"] || marked["GPU"] {
		t.Errorf("marked fields that do not decide comparability here: %v", marked)
	}
}

// FuzzResult renders results with arbitrary metric names, groups, units
// and values in every format: no input may make render panic or fail.
func FuzzResult(f *testing.F) {
	f.Add("phases.decode.span.p50", "phase", "ns", 1174108.0, 1440315.0)
	f.Add("x", "phase", "count", 0.0, 1.0)
	f.Add("components.attention.time", "component", "ns", 1.0, 2.0)
	f.Add("memory.memcpy", "memory", "bps", 1e9, 2e9)
	f.Add("bandwidth.k.gbps", "bandwidth", "bps", -1.0, 1e300)
	f.Add("", "", "", 0.0, 0.0)
	f.Fuzz(func(t *testing.T, name, group, unit string, base, head float64) {
		r := regressDoubleAttn()
		m := compare.Metric{Name: name, Group: compare.Group(group), Unit: compare.Unit(unit), Base: base, Head: head, Delta: head - base,
			HasBase: true, HasHead: true, Verdict: compare.Fail, CI: &compare.Interval{Lo: base, Hi: head}}
		if base != 0 {
			m.DeltaPct = (head - base) / base * 100
		}
		r.Metrics = append(r.Metrics, m, m)
		r.Kernels.TopTime = append(r.Kernels.TopTime, compare.KernelChange{Base: name, Head: unit, BaseNs: int64(base), HeadNs: -1, BasePerStep: head})
		for _, f := range formats[:3] {
			var b bytes.Buffer
			if err := f.write(&b, r); err != nil {
				t.Fatalf("%s: %v", f.ext, err)
			}
		}
	})
}
