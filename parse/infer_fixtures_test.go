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

// stepFixtures are the shipped exports that have step ranges.
var stepFixtures = []string{"base_a", "base_b", "regress_double_attn", "regress_no_graphs", "regress_host_sync", "base_graphmode", "vllm_real", "probe"}

// TestInferredMatchNVTX: every shipped fixture with its step ranges deleted
// (SQL on a copy) gives the steps its NVTX ranges give: the same decode
// step count within one, decode span p50 within 2%, prefill found. The
// table goes into the README (go test ./parse -run InferredMatchNVTX
// -update-readme).
func TestInferredMatchNVTX(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses and parses every fixture twice")
	}
	var rows []string
	for _, name := range stepFixtures {
		t.Run(name, func(t *testing.T) {
			opts := Options{Scope: "benchmark"}
			want, err := Export(context.Background(), export(t, name), opts)
			if err != nil {
				t.Fatal(err)
			}
			gz := "../testdata/nsys/" + name + ".sqlite.gz"
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
			dev := gd.Span.P50/wd.Span.P50 - 1
			if math.Abs(dev) > 0.02 {
				t.Errorf("decode span p50: inferred %.0f ns, NVTX %.0f ns (%+.2f%%)", gd.Span.P50, wd.Span.P50, 100*dev)
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
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %d / %d | %s / %s (%+.2f%%) | %d / %d (%+.1f%%) | %s |",
				name, got.Source.StepSource, wd.Steps, gd.Steps, ms(wd.Span.P50), ms(gd.Span.P50), 100*dev,
				wp.Steps, gpSteps, 100*pdev, gd.Graphs.Mode))
		})
	}
	if t.Failed() || len(rows) != len(stepFixtures) {
		return
	}
	table := "| fixture | found by | decode steps NVTX / inferred | decode span p50 NVTX / inferred | prefill steps (span p50 Δ) | decode mode |\n" +
		"|---|---|--:|--:|--:|---|\n" + strings.Join(rows, "\n") + "\n"
	const readme = "../README.md"
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)(<!-- inferred steps table: [^\n]*-->\n).*?(<!-- end of inferred steps table -->)`)
	if !re.Match(data) {
		t.Fatalf("%s has no inferred steps table markers", readme)
	}
	next := re.ReplaceAll(data, []byte("${1}"+strings.ReplaceAll(table, "$", "$$")+"${2}"))
	if string(next) == string(data) {
		return
	}
	if !*updateReadme {
		t.Errorf("%s: the inferred steps table is out of date (go test ./parse -run InferredMatchNVTX -update-readme):\n%s", readme, table)
		return
	}
	if err := os.WriteFile(readme, next, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ms formats nanoseconds as milliseconds for the README table.
func ms(ns float64) string { return fmt.Sprintf("%.3f ms", ns/1e6) }
