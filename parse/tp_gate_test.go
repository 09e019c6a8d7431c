package parse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
	"github.com/nsys-gate/gate/parse"
)

// TestGateFailsOnExtraAllReduce is issue 6's must-hold on an assembled
// two-process export (the GPU run is testdata/gpu/tp.sh): one more
// all-reduce wherever there was one must fail the gate, and a failing metric
// must name the collective.
func TestGateFailsOnExtraAllReduce(t *testing.T) {
	const allReduce = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL"
	load := func(path string) *parse.Summary {
		t.Helper()
		s, err := parse.Export(context.Background(), path, parse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := load(parse.MgAssembleTP(t, 2))
	headPath := parse.MgAssembleTP(t, 2)
	parse.MgExtraCollective(t, headPath, allReduce)
	head := load(headPath)

	if got := compare.Compare(base, load(parse.MgAssembleTP(t, 2)), compare.Options{}); got.Verdict != compare.Pass {
		t.Errorf("the same export twice: verdict %s", got.Verdict)
	}
	r := compare.Compare(base, head, compare.Options{})
	if r.Verdict != compare.Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	failed := map[string]compare.Metric{}
	for _, m := range r.Metrics {
		if m.Verdict == compare.Fail {
			failed[m.Name] = m
		}
	}
	for _, m := range r.Metrics {
		if m.Verdict == compare.Fail || m.Group == "communication" || m.Group == "device" {
			t.Logf("%-55s %-5s %12.1f -> %12.1f", m.Name, m.Verdict, m.Base, m.Head)
		}
	}
	for _, name := range []string{
		"communication.AllReduce.time",
		"communication.AllReduce.count",
		"communication.exposed.p50",
		"phases.decode.kernels",
	} {
		if _, ok := failed[name]; !ok {
			t.Errorf("%s did not fail", name)
		}
	}
	if m, ok := failed["communication.AllReduce.time"]; ok && m.Head != 2*m.Base {
		t.Errorf("AllReduce time %v -> %v, want it doubled", m.Base, m.Head)
	}
	for name := range failed {
		if strings.Contains(name, "SendRecv") {
			t.Errorf("%s failed, but only all-reduces were added", name)
		}
	}
}
