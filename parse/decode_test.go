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
	}
	for _, tt := range tests {
		_, err := DecodeSummary(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeSummary(%s) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

// FuzzDecodeSummary: DecodeSummary never panics, and what it accepts
// survives a JSON round trip.
func FuzzDecodeSummary(f *testing.F) {
	f.Add(readLegacyFixture(f))
	if s, err := Export(context.Background(), export(f, "probe"), Options{}); err == nil {
		if data, err := json.Marshal(s); err == nil {
			f.Add(data)
		}
	}
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
