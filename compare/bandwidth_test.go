package compare

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/nsys-gate/gate/internal/exporttest"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/parse/ncu"
)

// ncuBandwidth reads one of the real Nsight Compute CSVs in testdata/ncu.
func ncuBandwidth(t *testing.T, name string) *parse.Bandwidth {
	t.Helper()
	rep, err := ncu.Parse(bytes.NewReader(exporttest.Gunzip(t, filepath.Join("..", "testdata", "ncu", name+".csv.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	return ncu.Bandwidth(rep, name, 0)
}

// Keeping the KV cache in fp32 moves more DRAM bytes per launch in the
// cache-copy kernel: the bandwidth section's bytes metric must say so and be
// gated, even where the achieved GB/s alone would look like an improvement.
func TestBandwidthBytesFromNCU(t *testing.T) {
	b, h := summary(1, 2, 3, 4), summary(1, 2, 3, 4)
	b.Bandwidth = ncuBandwidth(t, "ncu_baseline")
	h.Bandwidth = ncuBandwidth(t, "ncu_kv_fp32")
	r := Compare(b, h, Options{})
	m := metric(t, r, "bandwidth.vectorized_elementwise_kernel.bytes")
	if m.Unit != "bytes" || m.Better != "lower" || m.Head <= m.Base*2 {
		t.Fatalf("%+v, want many more bytes per launch in head", m)
	}
	if m.Verdict != Warn && m.Verdict != Fail {
		t.Errorf("verdict %s, want the extra DRAM traffic gated", m.Verdict)
	}
}
