package render

import (
	"strings"
	"testing"

	"github.com/nsys-gate/gate/compare"
)

// An annotation says what the report's tables say, in the same units: the
// values of the review's divergence table (3 MiB of bytes, 4.8e12 B/s,
// 1,034,540 ns, 97.25%) read as the comment reads them.
func TestAnnotation(t *testing.T) {
	for _, tt := range []struct {
		m    compare.Metric
		want string
	}{
		{compare.Metric{Name: "phases.decode.span.p50", Unit: "ns", Base: 1034540, Head: 1269000, HasBase: true, HasHead: true, DeltaPct: 22.66, Threshold: "8%"},
			"decode · step p50: 1.03 → 1.27 ms (+22.7%), threshold 8% [phases.decode.span.p50]"},
		{compare.Metric{Name: "phases.decode.memcpy_bytes", Unit: "bytes", Base: 3 << 20, Head: 6 << 20, HasBase: true, HasHead: true, DeltaPct: 100},
			"decode · copy bytes/step: 3.15 → 6.29 MB (+100.0%) [phases.decode.memcpy_bytes]"},
		{compare.Metric{Name: "bandwidth.k.gbps", Unit: "bps", Base: 4.8e12, Head: 2.4e12, HasBase: true, HasHead: true, DeltaPct: -50},
			"k · DRAM rate: 4.8 → 2.4 TB/s (-50.0%) [bandwidth.k.gbps]"},
		{compare.Metric{Name: "cuda_graphs.coverage_time", Unit: "pct", Base: 97.25, Head: 86.5, HasBase: true, HasHead: true, Delta: -10.75, Note: "kernels left the\ngraphs"},
			"kernel time inside CUDA graphs: 97.2% → 86.5% (-10.8 pp); kernels left the graphs [cuda_graphs.coverage_time]"},
		{compare.Metric{Name: "kernels.new_kernel.total", Unit: "ns", Head: 5000, HasHead: true},
			"new_kernel · total time: — → 5 µs [kernels.new_kernel.total]"},
	} {
		got := Annotation(tt.m)
		if got != tt.want {
			t.Errorf("Annotation(%s) = %q, want %q", tt.m.Name, got, tt.want)
		}
		if !strings.Contains(got, shortChange(tt.m)) {
			t.Errorf("%q does not carry the report's %q", got, shortChange(tt.m))
		}
	}
}

// Names and notes come from the profile: an annotation carries no ANSI
// escape or bidi control (the workflow command escapes line breaks itself).
func TestAnnotationIsInert(t *testing.T) {
	m := compare.Metric{Name: "kernels." + compare.Segment("void \x1b[2J\x1b[31mred\x1b[0m<T>(int) \u202egnirts") + ".total", Unit: "ns", Base: 1, Head: 2, HasBase: true, HasHead: true,
		Note: "added: \x1b]8;;https://evil\x07link\x1b]8;;\x07 \u2066x\u2069"}
	got := Annotation(m)
	if i := strings.IndexAny(got, "\x1b\x07\u202e\u2066\u2069\r\n"); i >= 0 {
		t.Errorf("annotation keeps %q at %d: %q", got[i:i+1], i, got)
	}
	if !strings.Contains(got, "red") || !strings.Contains(got, "gnirts") {
		t.Errorf("annotation lost the name's text: %q", got)
	}
}
