package parse

import (
	"strings"
	"testing"
)

// Comparable is the one check behind compare's "not comparable" and
// MergeRanks' refusal: each fingerprint field that differs is a reason,
// each that one side lacks is unchecked, and the minor version of nsys is
// not a difference.
func TestComparable(t *testing.T) {
	base := func() *Summary {
		return &Summary{
			GPU:    GPU{Name: "NVIDIA H200", Chip: "GH100", Devices: 1},
			Source: Source{TraceMode: TraceNode, NsysVersion: "2025.3.2.0", Scope: "benchmark"},
		}
	}
	for _, tt := range []struct {
		name      string
		edit      func(*Summary)
		reason    string
		unchecked string
	}{
		{"same", func(*Summary) {}, "", ""},
		{"nsys minor", func(s *Summary) { s.Source.NsysVersion = "2025.5.1.121" }, "", ""},
		{"GPU", func(s *Summary) { s.GPU.Name = "NVIDIA H100 80GB HBM3" }, `GPU model differs: base "NVIDIA H200", head "NVIDIA H100 80GB HBM3"`, ""},
		{"chip", func(s *Summary) { s.GPU.Chip = "GH200" }, `GPU chip differs: base "GH100", head "GH200"`, ""},
		{"no chip", func(s *Summary) { s.GPU.Chip = "" }, "", ""},
		{"devices", func(s *Summary) { s.GPU.Devices = 2 }, "device count differs: base 1, head 2", ""},
		{"no device count", func(s *Summary) { s.GPU.Devices = 0 }, "", "device count"},
		{"trace mode", func(s *Summary) { s.Source.TraceMode = TraceGraph }, `CUDA-graph trace mode differs: base "node", head "graph"`, ""},
		{"nsys major", func(s *Summary) { s.Source.NsysVersion = " 2026.1.1" }, `Nsight Systems major version differs: base "2025", head "2026"`, ""},
		{"no nsys version", func(s *Summary) { s.Source.NsysVersion = "" }, "", "Nsight Systems major version"},
		{"scope", func(s *Summary) { s.Source.Scope = "" }, `scope differs: base "benchmark", head "(whole capture)"`, ""},
		{"legacy scope", func(s *Summary) { s.Source.Legacy, s.Source.Scope = true, "" }, "", "scope"},
	} {
		head := base()
		tt.edit(head)
		reasons, unchecked := Comparable(base(), head)
		if got := strings.Join(reasons, "; "); got != tt.reason {
			t.Errorf("%s: reasons %q, want %q", tt.name, got, tt.reason)
		}
		if got := strings.Join(unchecked, ", "); got != tt.unchecked {
			t.Errorf("%s: unchecked %q, want %q", tt.name, got, tt.unchecked)
		}
	}
}
