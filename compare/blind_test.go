package compare

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
)

// brokenReasons is what the first reason must say for each way a capture
// loses its steps (exporttest.Cases).
var brokenReasons = map[string]string{
	"nvtx_deleted": "steps found differently: base by NVTX step ranges, head by inference from CUDA-graph launches: were the head's NVTX step ranges removed?",
	"ends_null":    "head has no decode steps (base: 96): were the NVTX step ranges removed or left open?",
	"tid_null":     "of head's 2 prefill steps hold no GPU work (base: 245 kernels per step)",
	"zero_len":     "96 of head's 96 decode steps hold no GPU work (base: 280 kernels per step)",
}

// brokenSummary parses fixture name broken by query.
func brokenSummary(t *testing.T, name, query string) *parse.Summary {
	t.Helper()
	path := exporttest.Broken(t, filepath.Join("..", "testdata", "nsys", name+".sqlite.gz"), query)
	s, err := parse.Export(context.Background(), path, parse.Options{})
	if err != nil {
		t.Fatalf("parse.Export(%s): %v", path, err)
	}
	return s
}

// Heads whose steps were lost (NVTX deleted, ranges left open, runtime
// threads unknown so nothing projects, 0-length ranges) are not comparable,
// the reason first, for a head with intact code and for one with a real
// regression alike.
func TestBrokenHeadsAreNotComparable(t *testing.T) {
	base := fixtureSummary(t, "base_a")
	for _, head := range []string{"base_a", "regress_host_sync"} {
		for _, b := range exporttest.Cases() {
			t.Run(head+"/"+b.Name, func(t *testing.T) {
				r := Compare(base, brokenSummary(t, head, b.SQL), Options{})
				dumpResult(t, r)
				if r.Verdict != NotComparable {
					t.Fatalf("verdict %s (counts %+v), want not_comparable", r.Verdict, r.Counts)
				}
				if want := brokenReasons[b.Name]; want == "" || len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], want) {
					t.Errorf("reasons %q, want first %q", r.Reasons, want)
				}
				if c := r.Counts; c.Fail+c.Warn+c.Pass != 0 {
					t.Errorf("counts %+v: nothing may be gated", c)
				}
				if len(r.Improvements) != 0 {
					t.Errorf("improvements %v from a broken head", r.Improvements)
				}
			})
		}
	}
}

// The same regression with intact ranges fails: the broken heads above are
// not comparable because of what they lost, not because of the regression.
func TestIntactHeadStillFails(t *testing.T) {
	r := Compare(fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_host_sync"), Options{})
	if r.Verdict != Fail || len(blind(fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_host_sync"))) != 0 {
		t.Errorf("verdict %s, blind %q", r.Verdict, blind(fixtureSummary(t, "base_a"), fixtureSummary(t, "regress_host_sync")))
	}
}

// Most of the head's GPU work outside every step, and whole families the
// head lacks, each give their own reason.
func TestBlindFamiliesAndOutsideWork(t *testing.T) {
	with := func(f func(s *parse.Summary)) *parse.Summary {
		s := summary(spans(48, 1_000_000, 1000)...)
		s.Kernels = []parse.Kernel{{Name: "k", TotalNs: 48 * 1_000_000, Count: 480, Share: 1}}
		f(s)
		return s
	}
	base := with(func(s *parse.Summary) {
		s.Devices = []parse.Device{{ID: 0}, {ID: 1}}
		s.Communication = &parse.Communication{Collectives: []parse.Collective{{Name: "AllReduce"}}}
		s.Bandwidth = &parse.Bandwidth{Kernels: []parse.KernelBandwidth{{Name: "k"}}}
		s.Extra = []parse.ExtraMetric{{Name: "tokens/s", Better: "higher", Value: 1}}
	})
	head := with(func(s *parse.Summary) {
		// Ten times the kernel time, outside the steps.
		s.Kernels[0].TotalNs *= 10
	})
	reasons := blind(base, head)
	for _, want := range []string{
		"most of head's GPU work falls outside every step (10% of kernel time inside steps, base 100%)",
		"head has no per-device data (base: 2 devices)",
		"head has no NCCL communication (base: 1 collectives)",
		"head has no Nsight Compute bandwidth (base: 1 kernels)",
		"head has none of base's 1 extra metrics",
	} {
		if !strings.Contains(strings.Join(reasons, "\n"), want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
	if r := Compare(base, head, Options{}); r.Verdict != NotComparable {
		t.Errorf("verdict %s", r.Verdict)
	}
	// The other way round (the head measures more) is comparable.
	if reasons := blind(head, base); len(reasons) != 0 {
		t.Errorf("head with more: %q", reasons)
	}
}

// A step count that collapses (the capture cut short) is not comparable; a
// moderate change is a warning.
func TestStepCountCollapse(t *testing.T) {
	r := Compare(summary(spans(96, 1e6, 10)...), summary(spans(40, 1e6, 10)...), Options{})
	if r.Verdict != NotComparable || !strings.HasPrefix(r.Reasons[0], "head has 40 decode steps, base 96") {
		t.Errorf("verdict %s reasons %q", r.Verdict, r.Reasons)
	}
}

// Impossible durations (an end before its start, int64 extremes) are
// dropped with a warning, never averaged.
func TestImpossibleDurationsDropped(t *testing.T) {
	base := summary(spans(48, 1_000_000, 1000)...)
	head := summary(spans(48, 1_000_000, 1000)...)
	head.Phases["decode"].Samples[0].SpanNs = -280_000
	head.Phases["decode"].Samples[1].KernelNs = 1<<63 - 1
	head.Kernels = []parse.Kernel{{Name: "bad", TotalNs: -5}}
	r := Compare(base, head, Options{})
	m := metric(t, r, "phases.decode.span.p50")
	if m.NHead != 46 || m.Head < 1_000_000 {
		t.Errorf("span: n %d head %g, want the 46 good steps", m.NHead, m.Head)
	}
	ws := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"head: 2 of 48 decode steps have impossible durations", `head: kernel "bad": impossible duration -5 ns dropped`} {
		if !strings.Contains(ws, want) {
			t.Errorf("warnings %q lack %q", r.Warnings, want)
		}
	}
	if r.Verdict != Pass {
		t.Errorf("verdict %s: %v", r.Verdict, failing(r))
	}
}
