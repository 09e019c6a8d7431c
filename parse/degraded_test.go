package parse

import (
	"context"
	"strings"
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
			warns: []string{WarnInferredSteps},
			check: func(t *testing.T, s *Summary) {
				// One warning for one fact: no NVTX, steps inferred,
				// with a hint that covers both causes.
				if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Message, "no NVTX ranges in the export (nsys traced without -t cuda,nvtx, or the workload emits none): 1 prefill and 4 decode steps") {
					t.Errorf("warnings %v: want inferred_steps alone, naming both causes", s.Warnings)
				}
				// The whole capture, warm-up included: its 4 graph
				// replays are the decode steps, the prompt's forward
				// right before them the prefill.
				if len(s.Kernels) == 0 || s.CUDAGraphs.Replays != 4 || len(s.Memory.Ops) == 0 {
					t.Errorf("want kernels, graphs and memory: %d kernels, %+v", len(s.Kernels), s.CUDAGraphs)
				}
				if s.Source.StepSource != StepsGraph || s.Phases[PhaseDecode] == nil || s.Phases[PhaseDecode].Steps != 4 ||
					s.Phases[PhasePrefill] == nil || s.Phases[PhasePrefill].Steps != 1 {
					t.Errorf("steps found by %q: %v, want 4 decode and 1 prefill steps inferred from graph launches", s.Source.StepSource, s.Phases)
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
			// Broken writers leave ends missing, before the start, or at
			// the int64 extremes: such rows are dropped, never averaged.
			name: "impossible times",
			edit: []string{
				`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = start - 5 WHERE rowid IN (SELECT rowid FROM CUPTI_ACTIVITY_KIND_KERNEL ORDER BY start DESC LIMIT 3)`,
				`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET start = -9223372036854775807 - 1 WHERE rowid = (SELECT max(rowid) FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE end >= start)`,
				`UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = 9223372036854775807 WHERE rowid = (SELECT min(rowid) FROM CUPTI_ACTIVITY_KIND_KERNEL)`,
				// The same table without its NOT NULL constraints, as
				// another writer might make it, with one end missing.
				`CREATE TABLE m AS SELECT * FROM CUPTI_ACTIVITY_KIND_MEMCPY`,
				`DROP TABLE CUPTI_ACTIVITY_KIND_MEMCPY`,
				`ALTER TABLE m RENAME TO CUPTI_ACTIVITY_KIND_MEMCPY`,
				`UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET end = NULL WHERE rowid = (SELECT min(rowid) FROM CUPTI_ACTIVITY_KIND_MEMCPY)`,
				`UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET start = NULL WHERE rowid = (SELECT max(rowid) FROM CUPTI_ACTIVITY_KIND_MEMCPY)`,
				`UPDATE NVTX_EVENTS SET end = start - 1 WHERE rowid = (SELECT min(rowid) FROM NVTX_EVENTS WHERE text = 'decode' OR textId IN (SELECT id FROM StringIds WHERE value = 'decode'))`,
			},
			warns: []string{WarnImpossibleTimes},
			check: func(t *testing.T, s *Summary) {
				plain := mustExport(t, export(t, "probe"), Options{})
				count := func(s *Summary) (n int64) {
					for _, k := range s.Kernels {
						n += k.Count
						if k.MinNs < 0 || k.MaxNs > 1<<40 {
							t.Errorf("kernel %s: min %d, max %d ns", k.Name, k.MinNs, k.MaxNs)
						}
					}
					return n
				}
				if got, want := count(s), count(plain)-5; got != want {
					t.Errorf("%d kernels, want %d (5 dropped)", got, want)
				}
				var memcpys int64
				for _, op := range s.Memory.Ops {
					memcpys += op.Count
					if op.TimeNs < 0 {
						t.Errorf("memory %+v", op)
					}
				}
				var plainMemcpys int64
				for _, op := range plain.Memory.Ops {
					plainMemcpys += op.Count
				}
				if memcpys != plainMemcpys-2 {
					t.Errorf("%d memory ops, want %d", memcpys, plainMemcpys-2)
				}
				if got := s.Phases[PhaseDecode].Steps; got != 3 {
					t.Errorf("%d decode steps, want 3 (one range dropped)", got)
				}
				for _, w := range s.Warnings {
					if w.Code == WarnImpossibleTimes && !strings.Contains(w.Message, "8 rows") {
						t.Errorf("warning %q: want 8 rows", w.Message)
					}
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
			s, err := Export(context.Background(), edited(t, "probe", tt.edit...), Options{})
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

// TestInferenceOff: with infer-steps repeating: none, an export without
// step ranges has no phases, and says so.
func TestInferenceOff(t *testing.T) {
	s, err := Export(context.Background(), edited(t, "probe", `DROP TABLE NVTX_EVENTS`), Options{Infer: InferOptions{Repeating: PhaseNone}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Phases) != 0 || s.Source.StepSource != "" || !hasWarning(s, WarnNoSteps) || !hasWarning(s, WarnNoNVTX) ||
		hasWarning(s, WarnInferredSteps) || hasWarning(s, WarnMissingTable) {
		t.Errorf("phases %v, step source %q, warnings %v: want none, no_steps and no_nvtx", s.Phases, s.Source.StepSource, s.Warnings)
	}
}
