package compare

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
)

// twoBatchSizes assembles an export from vllm_real whose decode steps come
// in two batch sizes: the steps whose index i has i%10 < small are named
// generation_8(8) and run 15% faster (every GPU op of the step moved
// towards the step's first op start, so its span, busy and kernel time all
// shrink), the others keep generation_16(16) and their times. Two such
// exports with different small differ only in the load's batch mix.
func twoBatchSizes(t *testing.T, small int) *parse.Summary {
	t.Helper()
	path := exporttest.Decompress(t, filepath.Join("..", "testdata", "nsys", "vllm_real.sqlite.gz"), t.TempDir())
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf(`CREATE TEMP TABLE small AS SELECT id, start, end, globalTid FROM (
			SELECT rowid AS id, start, end, globalTid, row_number() OVER (ORDER BY start) - 1 AS i
			FROM NVTX_EVENTS WHERE text = 'execute_context_0(0)_generation_16(16)') WHERE i %% 10 < %d`, small),
		`CREATE TEMP TABLE launched AS SELECT r.correlationId AS corr, s.id AS step FROM CUPTI_ACTIVITY_KIND_RUNTIME r
			JOIN small s ON r.globalTid = s.globalTid AND r.start BETWEEN s.start AND s.end`,
		`CREATE TEMP TABLE first AS SELECT l.step, min(o.start) AS t0 FROM launched l JOIN (
			SELECT correlationId, start FROM CUPTI_ACTIVITY_KIND_KERNEL UNION ALL
			SELECT correlationId, start FROM CUPTI_ACTIVITY_KIND_MEMCPY UNION ALL
			SELECT correlationId, start FROM CUPTI_ACTIVITY_KIND_MEMSET) o ON o.correlationId = l.corr GROUP BY l.step`,
		`CREATE TEMP TABLE shift AS SELECT l.corr, f.t0 FROM launched l JOIN first f ON f.step = l.step`,
		`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET start = s.t0 + (start - s.t0) * 85 / 100, end = s.t0 + (end - s.t0) * 85 / 100
			FROM shift s WHERE correlationId = s.corr`,
		`UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET start = s.t0 + (start - s.t0) * 85 / 100, end = s.t0 + (end - s.t0) * 85 / 100
			FROM shift s WHERE correlationId = s.corr`,
		`UPDATE CUPTI_ACTIVITY_KIND_MEMSET SET start = s.t0 + (start - s.t0) * 85 / 100, end = s.t0 + (end - s.t0) * 85 / 100
			FROM shift s WHERE correlationId = s.corr`,
		`UPDATE NVTX_EVENTS SET text = 'execute_context_0(0)_generation_8(8)' WHERE rowid IN (SELECT id FROM small)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := parse.Export(context.Background(), path, parse.Options{Scope: "benchmark"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGroupByBatchOnRealSteps: the head's load ran more large batches (69%
// of its decode steps of 16 requests, against 28% in the base), each batch
// size exactly as fast as in the base. Compared together the decode steps
// fail (the median moved from the small batches' to the large ones');
// grouped by batch size, each size compared with its own, it passes.
func TestGroupByBatchOnRealSteps(t *testing.T) {
	base, head := twoBatchSizes(t, 7), twoBatchSizes(t, 3)
	if b, h := base.Phases[parse.PhaseDecode], head.Phases[parse.PhaseDecode]; b.Steps != 96 || h.Steps != 96 || b.Requests.Mean >= h.Requests.Mean {
		t.Fatalf("decode: base %d steps of %+v requests, head %d of %+v", b.Steps, b.Requests, h.Steps, h.Requests)
	}
	pooled := Compare(base, head, Options{})
	if m := metric(t, pooled, "phases.decode.span.p50"); pooled.Verdict != Fail || m.Verdict != Fail || m.DeltaPct < 10 {
		t.Errorf("pooled: verdict %s, decode step p50 %s %+.1f%%: want a failure, the batch mix moved the median", pooled.Verdict, m.Verdict, m.DeltaPct)
	}
	grouped := Compare(base, head, Options{GroupBy: GroupByBatch})
	if grouped.Verdict != Pass {
		t.Errorf("grouped by batch: verdict %s, want pass", grouped.Verdict)
		for _, m := range grouped.Metrics {
			if m.Verdict == Fail || m.Verdict == Warn {
				t.Logf("  %s %s %+.2f%% %s", m.Name, m.Verdict, m.DeltaPct, m.Note)
			}
		}
	}
	for _, g := range []struct {
		name       string
		base, head int
	}{{"decode@8", 69, 30}, {"decode@16", 27, 66}} {
		m := metric(t, grouped, "phases."+g.name+".span.p50")
		if m.Verdict != Pass || m.NBase != g.base || m.NHead != g.head {
			t.Errorf("%s: %s on %d and %d samples, want pass on %d and %d", g.name, m.Verdict, m.NBase, m.NHead, g.base, g.head)
		}
	}
}

// TestGraphModeOnFixtures: decode without CUDA graphs fails by its mode,
// named in the comparison; prefill, eager on both sides, is unchanged.
func TestGraphModeOnFixtures(t *testing.T) {
	r := Compare(fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_no_graphs"), Options{})
	m := metric(t, r, "phases.decode.graph_mode")
	if m.Verdict != Fail || GraphModeLabel(m.Base) != "full graph" || GraphModeLabel(m.Head) != "eager" ||
		!strings.Contains(m.Note, "CUDA-graph mode full graph → eager") {
		t.Errorf("decode mode: %s %s -> %s (%s), want a failure, full graph -> eager", m.Verdict, GraphModeLabel(m.Base), GraphModeLabel(m.Head), m.Note)
	}
	found := false
	for _, f := range r.Regressions {
		found = found || f.Metric == "phases.decode.graph_mode" && f.Label == "decode CUDA-graph mode"
	}
	if !found {
		t.Errorf("regressions %+v do not name the decode CUDA-graph mode", r.Regressions)
	}
	if p := metric(t, r, "phases.prefill.graph_mode"); p.Verdict != Pass || p.Delta != 0 {
		t.Errorf("prefill mode: %s, delta %g", p.Verdict, p.Delta)
	}
	if m := metric(t, Compare(fixtureSummary(t, "regress_no_graphs"), fixtureSummary(t, "base_a"), Options{}), "phases.decode.graph_mode"); !m.Improved {
		t.Errorf("eager -> full graph: %s, not an improvement", m.Verdict)
	}
}

// TestSummaryBeforeStepFields: a summary written before step_source and
// the per-phase graph and shape fields (the GPU run's base) still loads,
// its NVTX steps compare with a new summary's, and the new metrics are
// shown on one side only.
func TestSummaryBeforeStepFields(t *testing.T) {
	old, err := parse.DecodeSummary(bytes.NewReader(exporttest.Gunzip(t, filepath.Join("..", "testdata", "gpu", "base.summary.json.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	if old.Source.StepSource != "" || old.Phases[parse.PhaseDecode].Graphs != nil {
		t.Fatalf("the old summary has the new fields: %+v", old.Source)
	}
	r := Compare(old, fixtureSummaryScoped(t, "base_a", "benchmark"), Options{})
	for _, why := range r.Reasons {
		if strings.Contains(why, "steps found") {
			t.Errorf("reason %q: a summary from before step_source found its steps by NVTX", why)
		}
	}
	if m := metric(t, r, "phases.decode.graph_mode"); m.HasBase || !m.HasHead || m.Verdict != Info {
		t.Errorf("decode mode against an old summary: %+v, want head only, not judged", m)
	}
}
