package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readLegacyFixture(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "legacy", "base_a.summary.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestDecodeSummaryRoundTrip(t *testing.T) {
	s, err := Export(context.Background(), export(t, "probe"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSummary(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(got)
	if !bytes.Equal(data, again) {
		t.Error("summary changed on a JSON round trip")
	}
	if got.Source.Legacy {
		t.Error("gate summary marked legacy")
	}
}

func TestDecodeLegacySummary(t *testing.T) {
	s, err := DecodeSummary(bytes.NewReader(readLegacyFixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Source.Legacy || s.Schema != SummarySchema {
		t.Errorf("source %+v schema %q", s.Source, s.Schema)
	}
	d := s.Phases[PhaseDecode]
	if d == nil || d.Steps != 96 || d.Span.P50 != 1.1741e6 || len(d.Samples) != 0 {
		t.Fatalf("decode phase %+v", d)
	}
	if p := s.Phases[PhasePrefill]; p == nil || p.Steps != 2 || p.Span.Max != 18.5974e6 {
		t.Errorf("prefill phase %+v", p)
	}
	if len(s.Kernels) != 10 || s.Kernels[0].Name != "elementwise_kernel" || s.Kernels[0].Count != 6041 || s.Kernels[0].TotalNs != 26826000 {
		t.Errorf("kernels %+v", s.Kernels[:1])
	}
	if s.Kernels[0].Share < 0.175 || s.Kernels[0].Share > 0.177 {
		t.Errorf("share %g, want pct/100", s.Kernels[0].Share)
	}
	if len(s.Components) != 1 || s.Components[0].Phase != "window" || len(s.Components[0].Components) != 7 {
		t.Errorf("components %+v", s.Components)
	}
	if c := s.Components[0].Components[0]; c.Name != "activation" || c.TimeNs != 5090000 || c.Kernels != 816 {
		t.Errorf("first component (sorted by name) %+v", c)
	}
	if s.CUDAGraphs.CoverageCount != 93.39 || s.CUDAGraphs.KernelsInGraphs != 26592 {
		t.Errorf("graphs %+v", s.CUDAGraphs)
	}
	if s.GPU.Name != "NVIDIA H200" || s.GPU.Devices != 1 {
		t.Errorf("gpu %+v", s.GPU)
	}
	if len(s.Warnings) == 0 || s.Warnings[0].Code != "legacy_summary" {
		t.Errorf("warnings %+v", s.Warnings)
	}
}

func TestDecodeLegacyTolerant(t *testing.T) {
	for _, in := range []string{
		`{"cuda_graphs": {}}`,
		`{"top_kernels": []}`,
		`{"components": {"gemm": 12.5, "attention": {"time_ms": 3}}, "extra_key": [1, 2]}`,
		`{"prefill_decode": {"decode": {"count": 4}, "warmup": {"count": 1}}}`,
	} {
		s, err := DecodeSummary(strings.NewReader(in))
		if err != nil {
			t.Errorf("DecodeSummary(%s): %v", in, err)
			continue
		}
		if !s.Source.Legacy || s.Phases == nil {
			t.Errorf("DecodeSummary(%s) = %+v", in, s)
		}
	}
	s, _ := DecodeSummary(strings.NewReader(`{"components": {"gemm": 12.5}}`))
	if c := s.Components[0].Components[0]; c.TimeNs != 12.5e6 {
		t.Errorf("bare component number: %+v", c)
	}
}

func TestDecodeSummaryErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"foo": 1}`, `unknown summary layout: no "schema" key`},
		{`{"schema": "gate.summary/v9"}`, `unknown summary schema "gate.summary/v9"`},
		{`{"schema": 1}`, "schema: want a string"},
		{`[1, 2]`, "decoding summary"},
		{`null`, "want a JSON object"},
		{`{"schema": "gate.summary/v1", "phases": {"decode": null}}`, "phases.decode: null"},
		{`{"top_kernels": [{"count": 1}]}`, "top_kernels[0]: no name"},
		{`{"components": {"gemm": "lots"}}`, "components.gemm"},
		{`{"prefill_decode": {"decode": {"count": -1}}}`, "prefill_decode.decode"},
		{`{"prefill_decode": 5}`, "legacy summary.json"},
		{``, "decoding summary"},
		// encoding/json would take the last of two equal keys: a second
		// "phases" would empty the summary.
		{`{"schema": "gate.summary/v1", "phases": {"decode": {"steps": 3}}, "phases": {}}`, `duplicate key "phases" at the top level`},
		{`{"schema": "gate.summary/v1", "kernels": [{"name": "a"}, {"name": "b", "count": 1, "count": 9}]}`, `duplicate key "count" in kernels[1]`},
		{`{"schema": "gate.summary/v1", "phases": {"decode": {}, "dec\u006fde": {}}}`, `duplicate key "decode" in phases`},
		{`{"schema": "gate.summary/v1", "schema": "gate.summary/v1"}`, `duplicate key "schema"`},
		{`{"schema": "gate.summary/v1"} trailing`, "decoding summary: invalid character"},
		{`{"schema": "gate.summary/v1", "phases": {"decode": {"steps": }}}`, "decoding summary: invalid character"},
	}
	for _, tt := range tests {
		_, err := DecodeSummary(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeSummary(%s) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

// A byte-order mark, as some editors write, is not an error.
func TestDecodeSummaryBOM(t *testing.T) {
	s, err := DecodeSummary(strings.NewReader("\ufeff" + tinySummary))
	if err != nil || s.Phases["decode"] == nil || s.Phases["decode"].Steps != 2 {
		t.Fatalf("BOM summary: %v %+v", err, s)
	}
	if _, err := DecodeSummary(strings.NewReader("\ufeff" + string(readLegacyFixture(t)))); err != nil {
		t.Errorf("BOM legacy summary: %v", err)
	}
	if len(s.Extra) != 1 || len(s.Kernels) != 1 {
		t.Errorf("tiny summary read as %+v", s)
	}
	// Deep nesting stops the key scan; encoding/json refuses it.
	deep := `{"schema": "gate.summary/v1", "x": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}"
	if _, err := DecodeSummary(strings.NewReader(deep)); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Errorf("100000-deep nesting: %v", err)
	}
}

// tinySummary is a small gate summary with every part a fuzzer should
// reach: a phase with samples, kernels, components, extra metrics.
const tinySummary = `{"schema": "gate.summary/v1",
 "source": {"file": "t.sqlite", "trace_mode": "node", "window_start_ns": 0, "window_end_ns": 1000},
 "gpu": {"name": "NVIDIA H200", "devices": 1},
 "phases": {"decode": {"steps": 2, "span_ns": {"p50": 10, "p90": 12, "mean": 11, "min": 10, "max": 12},
   "samples": [{"name": "decode", "start_ns": 1, "span_ns": 10, "busy_ns": 9, "kernel_ns": 8, "kernels": 2, "memcpys": 0, "memcpy_bytes": 0, "dtoh": 0, "syncs": 0},
               {"name": "decode", "start_ns": 20, "span_ns": 12, "busy_ns": 9, "kernel_ns": 8, "kernels": 2, "memcpys": 0, "memcpy_bytes": 0, "dtoh": 0, "syncs": 0}]}},
 "kernels": [{"name": "k", "component": "gemm", "count": 2, "total_ns": 20, "share": 1}],
 "components": [{"phase": "decode", "components": [{"name": "gemm", "time_ns": 20, "kernels": 2, "share": 1}]}],
 "extra": [{"name": "tok_s", "unit": "tok/s", "better": "higher", "value": 5, "source": "bench.json"}],
 "warnings": []}`

// FuzzDecodeSummary: DecodeSummary never panics, and what it accepts
// survives a JSON round trip. The seeds are small, so that each run is
// quick and the fuzzer gets through many.
func FuzzDecodeSummary(f *testing.F) {
	f.Add([]byte(tinySummary))
	f.Add([]byte(`{"schema":"gate.summary/v1","phases":{"decode":{}},"phases":{}}`))
	f.Add([]byte(`{"prefill_decode": {"decode": {"count": 3, "avg_ms": 1.5}}, "top_kernels": [{"name": "k", "count": 1}]}`))
	f.Add([]byte(`{"components": {"gemm": 1}, "top_kernels": [{"name": "k", "pct": 1e308}]}`))
	f.Add([]byte(`{"schema": "gate.summary/v1", "phases": {}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSummary(bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("accepted summary does not encode: %v", err)
		}
		s2, err := DecodeSummary(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-encoded summary rejected: %v", err)
		}
		if s2.Source.Legacy != s.Source.Legacy || len(s2.Phases) != len(s.Phases) || len(s2.Kernels) != len(s.Kernels) {
			t.Errorf("round trip changed the summary: legacy %v->%v, %d->%d phases, %d->%d kernels",
				s.Source.Legacy, s2.Source.Legacy, len(s.Phases), len(s2.Phases), len(s.Kernels), len(s2.Kernels))
		}
	})
}
