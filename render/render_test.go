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
	"github.com/nsys-gate/gate/parse"
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
	want, ok := goldenFile(t, name, got)
	if !ok {
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./render -update rewrites it):\n%s", name, firstDiff(want, got))
	}
}

// goldenFile returns the golden ../testdata/render/name, or under -update
// writes got there and returns false: there is nothing to compare.
func goldenFile(t *testing.T, name string, got []byte) ([]byte, bool) {
	t.Helper()
	path := filepath.Join("..", "testdata", "render", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return nil, false
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it, then read it)", err)
	}
	return want, true
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
	// names the step time, in words, with units.
	if want := "❌ **gate: fail** — decode · step p50 1.17 → 1.44 ms (+22.7%)"; lines[1] != want {
		t.Errorf("verdict line = %q, want %q", lines[1], want)
	}
	if want := "Baseline `4f2c1e9` · head `regress_double_attn.sqlite.gz` vs base `base_a.sqlite.gz` on NVIDIA H200"; lines[3] != want {
		t.Errorf("provenance line = %q, want %q", lines[3], want)
	}
	// Regressions, then warnings, then the key numbers, the details folded.
	order := []string{"### Regressions", "### Warnings", "### Key numbers", "<details><summary>Details"}
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
	// One row per cause: the kernel's launches and total time in one row,
	// the component's time and share in another, the phase's three times
	// in a third.
	reg := md[strings.Index(md, "### Regressions"):strings.Index(md, "### Warnings")]
	rows := strings.Split(reg, "\n")[4:]
	for i, want := range []string{
		"| ❌ `cudnn…sdpa_sm80_flash_fprop…` · launches/decode step<br>also total time +94.8% | 8 → 16 | **+100.0%** | over 1% |",
		"| ❌ decode · attention time<br>also share +12.8 pp ⚠️ | 21.1 → 41.5 ms | **+96.7%** | over 20% · CI +94.0%…+97.2% |",
		"| ❌ decode · kernel time p50<br>also busy p50 +23.0%, step p50 +22.7% | 1.12 → 1.39 ms | **+24.1%** | over 10% · CI +23.4%…+24.7% |",
		"| ❌ decode · kernels/step | 312 → 328 | **+5.1%** | over 1% |",
		"",
	} {
		if i >= len(rows) || rows[i] != want {
			t.Errorf("regression row %d = %q, want %q", i, rows[min(i, len(rows)-1)], want)
		}
	}
	for _, want := range []string{
		"| step p50 | 18.2 → 17.5 ms **-4.1%** ⚠️ | 1.17 → 1.44 ms **+22.7%** ❌ |",
		"<sub>too few samples (2 vs 2) for a significance test</sub>",
		"<sub>7 failing and 2 warning metrics in the rows above; 13 metrics within their limits and 3 shown for information are in the full report.</sub>",
		"- `cudnn…sdpa_sm80_flash_fprop…`: `" + sdpa + "`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Passing rows are counted, not listed; charts are for the HTML page.
	for _, bad := range []string{"✅ pass", "```mermaid", "gemm"} {
		if strings.Contains(md, bad) {
			t.Errorf("the comment lists %q", bad)
		}
	}
}

// The HTML page lists every metric, passing ones too, with whole names,
// and a share of peak DRAM bandwidth only where DRAM bounds the rate.
func TestHTMLLayout(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, regressDoubleAttn(), Options{}); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, want := range []string{
		"<h3>Regressions</h3>", "<h3>Prefill and decode</h3>", "<h3>Bandwidth</h3>", "<h3>Kernels</h3>", "<h3>Components</h3>",
		"Peak DRAM bandwidth: 4.81 TB/s. Copies to and from the host cross PCIe or NVLink-C2C",
		"<td style=\"text-align:right\">1.21 TB/s → 1.19 TB/s</td>", "25.1% → 24.7%", // DtoD copies as a share of peak
		"<code>cudnn_<wbr>generated_<wbr>fort_<wbr>native_<wbr>sdpa_<wbr>sm80_<wbr>flash_<wbr>fprop_<wbr>wmma_<wbr>f16_<wbr>knob_<wbr>35_<wbr>16x128x128",
		"✅ pass", `<figure class="chart">`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// HtoD runs over the host link, not DRAM: no share of DRAM's peak.
	if i := strings.Index(h, "memcpy HtoD"); i < 0 || !strings.Contains(h[i:i+strings.Index(h[i:], "</tr>")], `<td style="text-align:right"></td>`) {
		t.Errorf("the HtoD row has a share of peak or is missing")
	}
}

func TestNeutralVerdicts(t *testing.T) {
	for _, c := range []struct {
		r    *compare.Result
		want []string
	}{
		{notComparable(), []string{"⚪ **gate: not comparable**", "trace mode differs", "| ≠ CUDA graph trace | node (each kernel) | graph (whole graphs) |"}},
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

// Host copies are measured against the PCIe link where NVML read it, and
// DRAM's peak is never divided into them.
func TestHostCopiesAgainstPCIe(t *testing.T) {
	r := regressDoubleAttn()
	for _, g := range []*parse.GPU{&r.Base.GPU, &r.Head.GPU} {
		g.NVML = &parse.NVML{Available: true, PCIeGen: 5, PCIeWidth: 16, PCIeBandwidth: 63.0e9}
	}
	var b bytes.Buffer
	if err := HTML(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if !strings.Contains(h, "shown against the PCIe link's peak (63 GB/s per direction, from NVML)") {
		t.Error("the bandwidth section does not say what host copies are measured against")
	}
	i := strings.Index(h, "memcpy HtoD")
	if row := h[i : i+strings.Index(h[i:], "</tr>")]; !strings.Contains(row, "38.3% → 38.6%") {
		t.Errorf("HtoD 24.1 → 24.3 GB/s on a 63 GB/s link is not 38.3%% → 38.6%%: %s", row)
	}
}

func TestOtherSections(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, tensorParallel(), Options{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"⚠️ **gate: warn** — ",
		"| ⚠️ ttft\\_p50 | 41.2 → 44 ms | **+6.8%** |",
		"| ⚠️ exposed communication | 8.1% → 11.9% | **+3.8 pp** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Everything, passing metrics too, is in the HTML page.
	b.Reset()
	if err := HTML(&b, tensorParallel(), Options{}); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, want := range []string{
		"<h3>Serving metrics</h3>", "41.2 ms → 44 ms", "10,850 tok/s → 10,420 tok/s",
		"<h3>Devices and communication</h3>", "8.1% → 11.9%",
		"<th>Kernel (Nsight Compute)</th>", "4.19 MB → 8.39 MB", "39.9% → 61.3%",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
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
