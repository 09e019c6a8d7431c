package parse

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's table of inferred steps")

// deleteSteps deletes every NVTX range but the scope range "benchmark":
// the step ranges of the shipped fixtures (plain and vLLM names).
const deleteSteps = `DELETE FROM NVTX_EVENTS WHERE eventType = 59 AND
	coalesce(text, (SELECT value FROM StringIds WHERE id = textId)) <> 'benchmark'`

// stepFixtures are the shipped exports that have step ranges: the scope
// they are parsed in, and what their inferred decode steps hold beyond the
// NVTX ones. Where the ranges are the engine's steps (the workload's
// fixtures: "benchmark" scope) the two agree: span p50 within 2%. The
// hfn_* fixtures (testdata/gpu/hf_generate.py --nvtx, trimmed by
// testdata/nsys/hfn-trim.sh) range only each model forward, while an
// inferred step is the loop iteration from the forward to the host
// synchronisation that reads its token, and with an eager forward the next
// iteration's bookkeeping run too (see infer.go): the kernels it launches
// outside the forward (bookkeeping) and their time and span.
var stepFixtures = []struct {
	name, scope string
	bookkeeping int     // decode kernels per step beyond the NVTX range's
	tol         float64 // decode span and kernel time p50: inferred / NVTX - 1 within [0, tol]; ±tol if bookkeeping is 0
}{
	{"base_a", "benchmark", 0, 0.02},
	{"base_b", "benchmark", 0, 0.02},
	{"regress_double_attn", "benchmark", 0, 0.02},
	{"regress_no_graphs", "benchmark", 0, 0.02},
	{"regress_host_sync", "benchmark", 0, 0.02},
	{"base_graphmode", "benchmark", 0, 0.02},
	{"vllm_real", "benchmark", 0, 0.02},
	{"probe", "benchmark", 0, 0.02},
	// The replay of the compiled forward (188 kernels) and the 16 eager
	// kernels that sample the token after it.
	{"hfn_static", "", 16, 0.05},
	// The eager forward's 516 kernels, 11 after it that sample the token
	// and the next iteration's bookkeeping run of 7.
	{"hfn_llama", "", 18, 0.07},
}

// TestInferredMatchNVTX: every shipped fixture with its step ranges deleted
// (SQL on a copy) gives the steps its NVTX ranges give: the same decode
// step count within one, the same prefill step count, decode span and
// kernel time p50 as stepFixtures says, the same CUDA-graph mode. The
// table goes into the README (go test ./parse -run InferredMatchNVTX
// -update-readme).
func TestInferredMatchNVTX(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses and parses every fixture twice")
	}
	var rows []string
	for _, c := range stepFixtures {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{Scope: c.scope}
			want, err := Export(context.Background(), export(t, c.name), opts)
			if err != nil {
				t.Fatal(err)
			}
			gz := "../testdata/nsys/" + c.name + ".sqlite.gz"
			got, err := Export(context.Background(), exporttest.Broken(t, gz, deleteSteps), opts)
			if err != nil {
				t.Fatal(err)
			}
			if want.Source.StepSource != StepsNVTX || !strings.HasPrefix(got.Source.StepSource, "inferred:") {
				t.Errorf("steps found by %q and %q, want nvtx and inferred", want.Source.StepSource, got.Source.StepSource)
			}
			wd, gd := want.Phases[PhaseDecode], got.Phases[PhaseDecode]
			if gd == nil {
				t.Fatalf("no decode steps inferred (warnings %v)", got.Warnings)
			}
			if d := gd.Steps - wd.Steps; d < -1 || d > 1 {
				t.Errorf("decode steps: inferred %d, NVTX %d", gd.Steps, wd.Steps)
			}
			if k := int(gd.Kernels.P50 - wd.Kernels.P50); k != c.bookkeeping {
				t.Errorf("decode kernels/step p50: inferred %g, NVTX %g: %d more, want %d", gd.Kernels.P50, wd.Kernels.P50, k, c.bookkeeping)
			}
			lo := -c.tol
			if c.bookkeeping > 0 {
				lo = 0 // the bookkeeping only adds
			}
			dev := gd.Span.P50/wd.Span.P50 - 1
			if dev < lo || dev > c.tol {
				t.Errorf("decode span p50: inferred %.0f ns, NVTX %.0f ns (%+.2f%%, want within [%+.0f%%, %+.0f%%])", gd.Span.P50, wd.Span.P50, 100*dev, 100*lo, 100*c.tol)
			}
			kdev := gd.KernelTime.P50/wd.KernelTime.P50 - 1
			if kdev < lo || kdev > c.tol {
				t.Errorf("decode kernel time p50: inferred %.0f ns, NVTX %.0f ns (%+.2f%%, want within [%+.0f%%, %+.0f%%])", gd.KernelTime.P50, wd.KernelTime.P50, 100*kdev, 100*lo, 100*c.tol)
			}
			wp, gp := want.Phases[PhasePrefill], got.Phases[PhasePrefill]
			if gp == nil || gp.Steps != wp.Steps {
				t.Errorf("prefill: inferred %v, NVTX %d steps", gp, wp.Steps)
			}
			pdev := math.NaN()
			if gp != nil {
				pdev = gp.Span.P50/wp.Span.P50 - 1
			}
			if gd.Graphs == nil || wd.Graphs == nil || gd.Graphs.Mode != wd.Graphs.Mode {
				t.Errorf("decode CUDA-graph mode: inferred %v, NVTX %v", gd.Graphs, wd.Graphs)
			}
			gpSteps := 0
			if gp != nil {
				gpSteps = gp.Steps
			}
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %d / %d | %s / %s (%+.2f%%) | %s / %s (%+.2f%%) | %g / %g | %d / %d (%+.1f%%) | %s |",
				c.name, got.Source.StepSource, wd.Steps, gd.Steps, ms(wd.Span.P50), ms(gd.Span.P50), 100*dev,
				ms(wd.KernelTime.P50), ms(gd.KernelTime.P50), 100*kdev, wd.Kernels.P50, gd.Kernels.P50,
				wp.Steps, gpSteps, 100*pdev, gd.Graphs.Mode))
		})
	}
	if t.Failed() || len(rows) != len(stepFixtures) {
		return
	}
	table := "| fixture | found by | decode steps NVTX / inferred | decode span p50 NVTX / inferred | decode kernel time p50 NVTX / inferred | decode kernels/step NVTX / inferred | prefill steps (span p50 Δ) | decode mode |\n" +
		"|---|---|--:|--:|--:|--:|--:|---|\n" + strings.Join(rows, "\n") + "\n"
	readmeTable(t, "inferred steps table", "InferredMatchNVTX", table)
}

// readmeTable checks the README's table between the markers "<!-- NAME:
// ... -->" and "<!-- end of NAME -->" against table, and rewrites it with
// -update-readme (go test ./parse -run TEST -update-readme).
func readmeTable(t *testing.T, name, test, table string) {
	t.Helper()
	const readme = "../README.md"
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)(<!-- ` + name + `: [^\n]*-->\n).*?(<!-- end of ` + name + ` -->)`)
	if !re.Match(data) {
		t.Fatalf("%s has no %s markers", readme, name)
	}
	next := re.ReplaceAll(data, []byte("${1}"+strings.ReplaceAll(table, "$", "$$")+"${2}"))
	if string(next) == string(data) {
		return
	}
	if !*updateReadme {
		t.Errorf("%s: the %s is out of date (go test ./parse -run %s -update-readme):\n%s", readme, name, test, table)
		return
	}
	if err := os.WriteFile(readme, next, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInferredHFGenerate: transformers' generate() without NVTX
// (testdata/gpu/hf_generate.py, trimmed by testdata/nsys/hf-trim.sh to one
// measured call's prefill and first 24 decode forwards) synchronises twice
// per iteration: after the forward (527 kernels with SDPA, 589 eager) and in
// the next iteration's bookkeeping (7 kernels, 17 eager). Every iteration
// is one decode step holding both runs, and the prefill forward, before
// the first of them, is found with its set-up run. The table goes into the
// README.
func TestInferredHFGenerate(t *testing.T) {
	cases := []struct {
		name                    string
		forward, bookkeeping    int // kernels of the decode iteration's runs
		prefillKernels          int // the prefill forward and its set-up run
		workloadMs, decodeSteps float64
	}{
		{"hf_sdpa", 527, 7, 515 + 22, 1511.97 / 3, 47},
		{"hf_sdpa2", 527, 7, 515 + 22, 1446.97 / 3, 47},
		{"hf_eager", 589, 17, 601 + 32, 1535.98 / 3, 47},
	}
	var rows []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustExport(t, export(t, c.name), Options{})
			if s.Source.StepSource != StepsSync {
				t.Errorf("steps found by %q, want %s", s.Source.StepSource, StepsSync)
			}
			d, p := s.Phases[PhaseDecode], s.Phases[PhasePrefill]
			if d == nil || p == nil {
				t.Fatalf("phases %v: want prefill and decode", s.Phases)
			}
			if d.Steps != 24 || p.Steps != 1 {
				t.Errorf("%d prefill and %d decode steps, want 1 and 24 (the fixture's forwards)", p.Steps, d.Steps)
			}
			if k := int(d.Kernels.Min); k != c.forward+c.bookkeeping || d.Kernels.Max != d.Kernels.Min {
				t.Errorf("decode kernels/step %v, want %d (forward %d + bookkeeping %d) in every step", d.Kernels, c.forward+c.bookkeeping, c.forward, c.bookkeeping)
			}
			if d.Syncs.Min != 2 || d.Syncs.Max != 2 {
				t.Errorf("decode syncs/step %v, want 2 (the forward's and the bookkeeping's)", d.Syncs)
			}
			if k := int(p.Kernels.P50); k != c.prefillKernels {
				t.Errorf("prefill kernels %d, want %d", k, c.prefillKernels)
			}
			// The workload's own clock: a measured generate() is its
			// prefill and 47 decode iterations, launch-bound.
			perCall := (p.Span.P50 + c.decodeSteps*d.Span.P50) / 1e6
			if dev := perCall/c.workloadMs - 1; math.Abs(dev) > 0.05 {
				t.Errorf("prefill + 47 decode spans %.1f ms, the workload timed %.1f ms per generate() (%+.1f%%)", perCall, c.workloadMs, 100*dev)
			}
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %d / %d | %d (%d + %d) | %s | %s | %.0f / %.0f ms |",
				c.name, s.Source.StepSource, p.Steps, d.Steps, int(d.Kernels.P50), c.forward, c.bookkeeping,
				ms(d.Span.P50), ms(d.KernelTime.P50), perCall, c.workloadMs))
		})
	}
	if t.Failed() || len(rows) != len(cases) {
		return
	}
	table := "| fixture | found by | prefill / decode steps | decode kernels/step (forward + bookkeeping) | decode span p50 | decode kernel time p50 | prefill + 47 decode spans / the script's time per generate() |\n" +
		"|---|---|--:|--:|--:|--:|--:|\n" + strings.Join(rows, "\n") + "\n"
	readmeTable(t, "HF generate table", "InferredHFGenerate", table)
}

// ms formats nanoseconds as milliseconds for the README table.
func ms(ns float64) string { return fmt.Sprintf("%.3f ms", ns/1e6) }

// TestInferredNoNVTX: the default workload traced on the H200 with -t cuda
// only (testdata/nsys/nonvtx_*, trimmed by nonvtx-trim.sh: 2 requests of
// a prefill and 64 decode steps each) has its steps found from the launch
// stream alone: 2 prefill and 128 decode steps on each of the four, by
// CUDA-graph launches where decode runs in graphs and by the repeating
// launch sequence where it runs eagerly, with the kernels per step of the
// workload (the doubled attention: 8 more SDPA launches and their
// elementwise work). The base's decode span p50 is, within 2%, that of the
// same workload recorded with NVTX on the same machine (gm_base1, whose
// steps are NVTX ranges). The table goes into the README.
func TestInferredNoNVTX(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses and parses five exports")
	}
	nvtx := mustExport(t, export(t, "gm_base1"), Options{})
	if nvtx.Source.StepSource != StepsNVTX || nvtx.Phases[PhaseDecode] == nil {
		t.Fatalf("gm_base1: steps by %q, phases %v: want NVTX decode steps", nvtx.Source.StepSource, nvtx.Phases)
	}
	nvtxSpan := nvtx.Phases[PhaseDecode].Span.P50
	cases := []struct {
		name    string
		source  string
		mode    string // decode's CUDA-graph mode
		kernels int    // per decode step
	}{
		{"nonvtx_base", StepsGraph, GraphFull, 280},
		{"nonvtx_double_attn", StepsGraph, GraphFull, 328},
		{"nonvtx_eager", StepsRepeat, GraphEager, 280},
		{"nonvtx_eager_double_attn", StepsRepeat, GraphEager, 328},
	}
	var rows []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustExport(t, export(t, c.name), Options{})
			if s.Source.StepSource != c.source {
				t.Errorf("steps found by %q, want %s", s.Source.StepSource, c.source)
			}
			d, p := s.Phases[PhaseDecode], s.Phases[PhasePrefill]
			if d == nil || p == nil {
				t.Fatalf("phases %v: want prefill and decode", s.Phases)
			}
			if p.Steps != 2 || d.Steps != 128 {
				t.Errorf("%d prefill and %d decode steps, want 2 and 128", p.Steps, d.Steps)
			}
			if k := int(d.Kernels.P50); k != c.kernels || d.Kernels.Min != d.Kernels.Max {
				t.Errorf("decode kernels/step %v, want %d in every step", d.Kernels, c.kernels)
			}
			if d.Graphs == nil || d.Graphs.Mode != c.mode {
				t.Errorf("decode graphs %+v, want mode %s", d.Graphs, c.mode)
			}
			dev := d.Span.P50/nvtxSpan - 1
			if c.name == "nonvtx_base" && math.Abs(dev) > 0.02 {
				t.Errorf("decode span p50 %.1f µs, the NVTX recording's %.1f µs (%+.2f%%): want within 2%%", d.Span.P50/1e3, nvtxSpan/1e3, 100*dev)
			}
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %d / %d | %d | %s | %s | %s |",
				c.name, s.Source.StepSource, p.Steps, d.Steps, int(d.Kernels.P50), ms(d.Span.P50), ms(p.Span.P50), d.Graphs.Mode))
		})
	}
	if t.Failed() || len(rows) != len(cases) {
		return
	}
	table := fmt.Sprintf("| fixture | found by | prefill / decode steps | decode kernels/step | decode span p50 (NVTX recording: %s) | prefill span p50 | decode mode |\n", ms(nvtxSpan)) +
		"|---|---|--:|--:|--:|--:|---|\n" + strings.Join(rows, "\n") + "\n"
	readmeTable(t, "no-NVTX table", "InferredNoNVTX", table)
}
