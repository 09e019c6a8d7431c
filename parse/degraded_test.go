package parse

import (
	"path/filepath"
	"testing"
)

// TestDegradedExports edits copies of the probe export the way older or
// differently traced captures look, and checks that gate says so in
// warnings and still summarises what is there.
func TestDegradedExports(t *testing.T) {
	tests := []struct {
		name  string
		edit  []string
		warns []string
		check func(t *testing.T, s *Summary)
	}{
		{
			name:  "graph node ids dropped",
			edit:  []string{`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET graphNodeId = NULL`},
			warns: []string{WarnGraphsUntraced},
			check: func(t *testing.T, s *Summary) {
				if s.CUDAGraphs.KernelsInGraphs != 0 || s.Phases[PhaseDecode].Steps != 4 {
					t.Errorf("graphs %+v", s.CUDAGraphs)
				}
			},
		},
		{
			name:  "no NVTX",
			edit:  []string{`DROP TABLE NVTX_EVENTS`},
			warns: []string{WarnNoNVTX, WarnNoSteps, WarnMissingTable},
			check: func(t *testing.T, s *Summary) {
				if len(s.Phases) != 0 || len(s.Kernels) == 0 || s.CUDAGraphs.Replays != 4 || len(s.Memory.Ops) == 0 {
					t.Errorf("want kernels, graphs and memory without phases: %d phases, %d kernels, %+v", len(s.Phases), len(s.Kernels), s.CUDAGraphs)
				}
			},
		},
		{
			name:  "no runtime table",
			edit:  []string{`DROP TABLE CUPTI_ACTIVITY_KIND_RUNTIME`},
			warns: []string{WarnMissingTable},
			check: func(t *testing.T, s *Summary) {
				// Steps are found from NVTX, but nothing can be projected on them.
				if s.Phases[PhaseDecode].Steps != 4 || s.Phases[PhaseDecode].Kernels.Max != 0 {
					t.Errorf("decode %+v", s.Phases[PhaseDecode])
				}
			},
		},
		{
			name:  "no GPU description, no enum, no memcpy",
			edit:  []string{`DROP TABLE TARGET_INFO_GPU`, `DROP TABLE ENUM_CUDA_MEMCPY_OPER`, `DROP TABLE CUPTI_ACTIVITY_KIND_MEMCPY`},
			warns: []string{WarnMissingTable},
			check: func(t *testing.T, s *Summary) {
				if s.GPU.Name != "" || s.GPU.Devices != 1 || memOp(s, "memcpy", "DtoH").Count != 0 || len(s.Kernels) == 0 {
					t.Errorf("gpu %+v", s.GPU)
				}
			},
		},
		{
			name: "text inline instead of textId",
			edit: []string{`UPDATE NVTX_EVENTS SET text = (SELECT value FROM StringIds WHERE id = textId), textId = NULL WHERE textId IS NOT NULL`},
			check: func(t *testing.T, s *Summary) {
				if s.Phases[PhaseDecode] == nil || s.Phases[PhaseDecode].Steps != 4 {
					t.Errorf("phases %v", s.Phases)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "edited.sqlite")
			copyFile(t, export(t, "probe"), path, -1)
			execSQL(t, path, tt.edit...)
			s, err := Export(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.warns {
				if !hasWarning(s, w) {
					t.Errorf("no %s warning in %v", w, s.Warnings)
				}
			}
			tt.check(t, s)
		})
	}
}
