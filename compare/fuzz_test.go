package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/parse"
)

// FuzzCompare: any summary DecodeSummary accepts (gate's or the legacy
// layout) compares against a real one and itself without panicking, and the
// result always encodes as JSON.
func FuzzCompare(f *testing.F) {
	probe := fixtureSummary(f, "probe")
	if data, err := json.Marshal(probe); err == nil {
		f.Add(data)
	}
	if data, err := os.ReadFile(filepath.Join("..", "testdata", "legacy", "base_a.summary.json")); err == nil {
		f.Add(data)
	}
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
