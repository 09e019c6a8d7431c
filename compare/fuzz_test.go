package compare

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// FuzzCompare: any summary DecodeSummary accepts (gate's or the legacy
// layout) compares against a real one and itself without panicking, and the
// result always encodes as JSON.
func FuzzCompare(f *testing.F) {
	probe := fixtureSummary(f, "probe")
	// Small seeds (not the probe's 21 kB): each run is quick and the
	// mutator gets through many.
	f.Add([]byte(`{"schema": "gate.summary/v1", "source": {"trace_mode": "node"}, "gpu": {"name": "NVIDIA H200", "devices": 1},
 "phases": {"decode": {"steps": 2, "samples": [{"span_ns": 10, "busy_ns": 9, "kernel_ns": 8, "kernels": 2}, {"span_ns": 12, "busy_ns": 9, "kernel_ns": 8, "kernels": 2}]}},
 "kernels": [{"name": "k", "component": "gemm", "count": 2, "total_ns": 20, "share": 1, "per_decode_step": 1}],
 "components": [{"phase": "decode", "components": [{"name": "gemm", "time_ns": 20, "kernels": 2, "share": 1}]}],
 "extra": [{"name": "tok_s", "unit": "tok/s", "better": "higher", "value": 5}], "warnings": []}`))
	f.Add([]byte(`{"prefill_decode": {"decode": {"count": 3, "avg_ms": 1.5}}, "top_kernels": [{"name": "k", "count": 1, "pct": 50}]}`))
	f.Add([]byte(`{"schema":"gate.summary/v1","phases":{"decode":{"steps":3,"samples":[{"span_ns":1},{"span_ns":-5},{"span_ns":9e18}]}},"kernels":[{"name":"a.b"},{"name":"a%2Eb"},{"name":"a.b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse.DecodeSummary(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range []*Result{Compare(probe, s, Options{}), Compare(s, probe, Options{}), Compare(s, s, Options{}), Compare(nil, s, Options{})} {
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("result does not encode: %v", err)
			}
			if c := r.Counts; c.Fail+c.Warn+c.Pass+c.Info != len(r.Metrics) {
				t.Fatalf("counts %+v for %d metrics", c, len(r.Metrics))
			}
		}
		if r := Compare(s, s, Options{}); r.Verdict == Fail {
			t.Fatalf("a summary fails against itself: %v", failing(r))
		}
	})
}
