package parse_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// The real tensor-parallel profiles of testdata/gpu/tp.sh (two H200s, two
// ranks, 8 layers, eager decode), kept in testdata/multigpu/. Until they are
// recorded these tests skip, saying so.

// tpFixture decompresses testdata/multigpu/<name>.sqlite.gz and parses it
// with its per-device detail.
func tpFixture(t *testing.T, name string) *parse.Summary {
	t.Helper()
	rel := filepath.Join("multigpu", name+".sqlite")
	if _, err := os.Stat(filepath.Join("..", "testdata", rel+".gz")); err != nil {
		t.Skipf("%s.gz not recorded yet (run testdata/gpu/tp.sh on the 2-GPU machine): %v", rel, err)
	}
	path := parse.MgUnzip(t, rel)
	s, err := parse.Export(context.Background(), path, parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allReducesPerDecodeStep adds up the all-reduce kernels per decode step
// (NCCL picks the protocol, hence the kernel name, by message size).
func allReducesPerDecodeStep(s *parse.Summary) float64 {
	var n float64
	for _, k := range s.Kernels {
		if parse.CollectiveOf(k.Name) == parse.CollAllReduce {
			n += k.PerDecodeStep
		}
	}
	return n
}

func TestTPBase(t *testing.T) {
	s := tpFixture(t, "tp_base")
	if s.GPU.Devices != 2 || len(s.Devices) != 2 {
		t.Fatalf("gpu.devices %d, %d devices; want 2", s.GPU.Devices, len(s.Devices))
	}
	dec := s.Phases[parse.PhaseDecode]
	if dec == nil || dec.Steps != 2*96 {
		t.Fatalf("decode phase %+v, want 96 steps per rank", dec)
	}
	// 8 layers, an all-reduce after attention and one after the MLP.
	if got := allReducesPerDecodeStep(s); got != 16 {
		t.Errorf("%v all-reduces per decode step, want 16", got)
	}
	c := s.Communication
	if c == nil || len(c.Collectives) == 0 || c.Collectives[0].Name != parse.CollAllReduce {
		t.Fatalf("communication %+v, want all-reduce first", c)
	}
	if len(c.ExposedSamples) != dec.Steps {
		t.Errorf("%d exposed samples for %d decode steps", len(c.ExposedSamples), dec.Steps)
	}
	// Every all-reduce waits for the compute before it (tensor parallelism
	// has nothing to overlap it with), so nearly all of it is exposed; two
	// ranks running the same shards are balanced.
	if c.ExposedPct < 80 || c.Imbalance > 0.1 {
		t.Errorf("exposed %.1f%%, imbalance %.3f", c.ExposedPct, c.Imbalance)
	}
	for _, d := range s.Devices {
		if d.CommNs <= 0 || d.Steps.P50 <= 0 {
			t.Errorf("device %+v", d)
		}
	}
}

func TestTPExtraAllReduce(t *testing.T) {
	base := tpFixture(t, "tp_base")
	head := tpFixture(t, "tp_extra_allreduce")
	if got := allReducesPerDecodeStep(head); got != 24 {
		t.Errorf("%v all-reduces per decode step, want 24 (one more per layer)", got)
	}
	r := compare.Compare(base, head, compare.Options{})
	if r.Verdict != compare.Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	failed := map[string]bool{}
	for _, m := range r.Metrics {
		if m.Verdict == compare.Fail {
			failed[m.Name] = true
			t.Logf("fail: %s %.0f -> %.0f", m.Name, m.Base, m.Head)
		}
	}
	for _, name := range []string{"communication.AllReduce.time", "phases.decode.kernels"} {
		if !failed[name] {
			t.Errorf("%s did not fail", name)
		}
	}
}

// TestTPPerRank merges the per-rank exports (PER_RANK=1 in tp.sh) and checks
// them against the one export of both ranks.
func TestTPPerRank(t *testing.T) {
	r0 := tpFixture(t, "tp_base.rank0")
	r1 := tpFixture(t, "tp_base.rank1")
	m, err := parse.MergeRanks([]*parse.Summary{r0, r1})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Devices) != 2 || m.Communication == nil {
		t.Fatalf("devices %+v, communication %+v", m.Devices, m.Communication)
	}
	if got := allReducesPerDecodeStep(m); got != 16 {
		t.Errorf("%v all-reduces per decode step of a rank, want 16", got)
	}
	if m.Phases[parse.PhaseDecode].Steps != 96 {
		t.Errorf("%d merged decode steps, want 96", m.Phases[parse.PhaseDecode].Steps)
	}
}
