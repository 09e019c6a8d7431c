package parse

import (
	"context"
	"math"
	"strings"
	"testing"
)

func mustExport(t testing.TB, path string, opts Options) *Summary {
	t.Helper()
	s, err := Export(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hasWarning(s *Summary, code string) bool {
	for _, w := range s.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}

// TestSteps: both naming schemes give 2 prefill and 96 decode steps, with
// or without the benchmark scope, and no mixed steps.
func TestSteps(t *testing.T) {
	for _, name := range []string{"base_a", "vllm_real"} {
		for _, scope := range []string{"", "benchmark"} {
			s := mustExport(t, export(t, name), Options{Scope: scope})
			pre, dec := s.Phases[PhasePrefill], s.Phases[PhaseDecode]
			if pre == nil || dec == nil || pre.Steps != 2 || dec.Steps != 96 || len(dec.Samples) != 96 {
				t.Fatalf("%s scope %q: phases %v, want 2 prefill and 96 decode", name, scope, s.Phases)
			}
			if _, ok := s.Phases[PhaseMixed]; ok {
				t.Errorf("%s: unexpected mixed phase", name)
			}
			// Every decode step launches one graph: 280 kernels (node mode).
			if dec.Kernels.Min != 280 || dec.Kernels.Max != 280 {
				t.Errorf("%s: decode kernels per step %+v, want 280", name, dec.Kernels)
			}
			for _, st := range dec.Samples {
				if st.BusyNs <= 0 || st.BusyNs > st.SpanNs || st.KernelNs < st.BusyNs/2 {
					t.Errorf("%s: step %+v: busy must lie in (0, span]", name, st)
					break
				}
			}
			if dec.Span.P50 > dec.Span.P90 || dec.Span.Min > dec.Span.P50 || dec.Span.P90 > dec.Span.Max {
				t.Errorf("%s: decode span stat out of order: %+v", name, dec.Span)
			}
			if hasWarning(s, WarnNoSteps) {
				t.Errorf("%s: no_steps warning with steps found", name)
			}
			for _, k := range s.Kernels {
				if k.Name == "splitKreduce_kernel" && k.PerDecodeStep != 8 {
					t.Errorf("%s: splitKreduce_kernel per decode step %v, want 8 (one per layer)", name, k.PerDecodeStep)
				}
			}
		}
	}
}

// TestScope: the benchmark scope drops setup (weight upload) from the window.
func TestScope(t *testing.T) {
	whole := mustExport(t, export(t, "base_a"), Options{})
	bench := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	if bench.Source.Scope != "benchmark" || bench.GPUTime.WindowNs >= whole.GPUTime.WindowNs {
		t.Errorf("scoped window %d not inside whole window %d", bench.GPUTime.WindowNs, whole.GPUTime.WindowNs)
	}
	// The ~1 GB of weight upload (36 HtoD copies) is setup, outside the scope.
	if hto := memOp(whole, "memcpy", "HtoD"); hto.Count != 36 || hto.Bytes < 1e9 {
		t.Errorf("whole capture HtoD %+v, want 36 copies over 1 GB", hto)
	}
	if hto := memOp(bench, "memcpy", "HtoD"); hto.Count != 2 {
		t.Errorf("benchmark HtoD %+v, want the 2 prompt uploads", hto)
	}
	if bench.GPUTime.BusyPct < 80 || whole.GPUTime.BusyPct > 20 {
		t.Errorf("busy %.1f%% in scope, %.1f%% whole: scope should exclude idle setup", bench.GPUTime.BusyPct, whole.GPUTime.BusyPct)
	}
	if _, err := Export(context.Background(), export(t, "base_a"), Options{Scope: "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown scope: err %v", err)
	}
}

func memOp(s *Summary, kind, dir string) MemoryOp {
	for _, op := range s.Memory.Ops {
		if op.Kind == kind && op.Direction == dir {
			return op
		}
	}
	return MemoryOp{}
}

// TestGraphModeSummary: base_graphmode is recognised as graph-level tracing,
// replays count as GPU work and give coverage.
func TestGraphModeSummary(t *testing.T) {
	g := mustExport(t, export(t, "base_graphmode"), Options{Scope: "benchmark"})
	n := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	if g.Source.TraceMode != TraceGraph || n.Source.TraceMode != TraceNode {
		t.Fatalf("trace modes %q and %q, want graph and node", g.Source.TraceMode, n.Source.TraceMode)
	}
	if !hasWarning(g, WarnGraphTrace) || hasWarning(n, WarnGraphTrace) {
		t.Errorf("graph-level warning: graph %v, node %v", g.Warnings, n.Warnings)
	}
	cg := g.CUDAGraphs
	if cg.Mode != TraceGraph || cg.Replays != 96 || cg.TimeInGraphsNs <= 0 || cg.CoverageTime < 50 || cg.CoverageCount <= 0 {
		t.Errorf("graph mode coverage %+v: want 96 replays with time and coverage", cg)
	}
	dec := g.Phases[PhaseDecode]
	// The replay is the step's work: busy close to the span, not the few
	// microseconds of its eager ops.
	if dec.Busy.P50 < 0.9*dec.Span.P50 || dec.KernelTime.P50 < 0.9*dec.Busy.P50 {
		t.Errorf("graph-mode decode busy %+v span %+v kernel %+v: the replay is not counted", dec.Busy, dec.Span, dec.KernelTime)
	}
	// Same workload: graph-mode decode busy is within 15% of node-mode's.
	if r := dec.Busy.P50 / n.Phases[PhaseDecode].Busy.P50; r < 0.85 || r > 1.15 {
		t.Errorf("graph-mode decode busy %.0f vs node-mode %.0f", dec.Busy.P50, n.Phases[PhaseDecode].Busy.P50)
	}
	if n.CUDAGraphs.Replays != 96 || n.CUDAGraphs.CoverageCount < 95 {
		t.Errorf("node mode graphs %+v, want 96 replays, ~97%% of kernels", n.CUDAGraphs)
	}
}

// TestHostSync: a device-to-host copy and a sync every decode step show up
// as 94 more DtoH copies, one per decode step, and a lower busy share.
func TestHostSync(t *testing.T) {
	base := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	head := mustExport(t, export(t, "regress_host_sync"), Options{Scope: "benchmark"})
	if d := memOp(head, "memcpy", "DtoH").Count - memOp(base, "memcpy", "DtoH").Count; d != 94 {
		t.Errorf("%d more DtoH copies, want 94", d)
	}
	hd, bd := head.Phases[PhaseDecode], base.Phases[PhaseDecode]
	if hd.DtoH.Min != 1 || bd.DtoH.P50 != 0 {
		t.Errorf("DtoH per decode step: head %+v base %+v", hd.DtoH, bd.DtoH)
	}
	if hd.Syncs.Min < 1 || bd.Syncs.P50 != 0 {
		t.Errorf("syncs per decode step: head %+v base %+v", hd.Syncs, bd.Syncs)
	}
	if head.GPUTime.BusyPct >= base.GPUTime.BusyPct-10 {
		t.Errorf("busy %.1f%% with syncs vs %.1f%% base: want clearly lower", head.GPUTime.BusyPct, base.GPUTime.BusyPct)
	}
	if r := hd.Span.P50 / bd.Span.P50; r < 1.25 || r > 1.5 {
		t.Errorf("decode span ratio %.2f, want about 1.38", r)
	}
	if r := hd.KernelTime.P50 / bd.KernelTime.P50; math.Abs(r-1) > 0.02 {
		t.Errorf("decode kernel time ratio %.3f, want the same kernels", r)
	}
}

// TestNoGraphs: decode without CUDA graphs has 0% coverage and a much longer span.
func TestNoGraphs(t *testing.T) {
	base := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	head := mustExport(t, export(t, "regress_no_graphs"), Options{Scope: "benchmark"})
	if cg := head.CUDAGraphs; cg.CoverageCount != 0 || cg.CoverageTime != 0 || cg.Replays != 0 || cg.KernelsInGraphs != 0 {
		t.Errorf("no-graphs coverage %+v, want 0", cg)
	}
	if base.CUDAGraphs.CoverageCount < 95 {
		t.Errorf("base coverage %.1f%%, want ~97%%", base.CUDAGraphs.CoverageCount)
	}
	if r := head.Phases[PhaseDecode].Span.P50 / base.Phases[PhaseDecode].Span.P50; r < 6 || r > 9 {
		t.Errorf("decode span ratio %.1f, want about 7.6", r)
	}
	if head.GPUTime.BusyPct > base.GPUTime.BusyPct/2 {
		t.Errorf("busy %.1f%% without graphs vs %.1f%%: want it to collapse", head.GPUTime.BusyPct, base.GPUTime.BusyPct)
	}
}

// TestDoubleAttention: attention time and count up in decode, prefill unchanged.
func TestDoubleAttention(t *testing.T) {
	base := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	head := mustExport(t, export(t, "regress_double_attn"), Options{Scope: "benchmark"})
	att := func(s *Summary, phase string) ComponentTime {
		for _, pc := range s.Components {
			if pc.Phase == phase {
				for _, c := range pc.Components {
					if c.Name == CompAttention {
						return c
					}
				}
			}
		}
		return ComponentTime{}
	}
	bd, hd := att(base, PhaseDecode), att(head, PhaseDecode)
	if hd.Kernels <= bd.Kernels || hd.TimeNs < bd.TimeNs*3/2 {
		t.Errorf("decode attention base %+v head %+v: want more kernels and time", bd, hd)
	}
	if bp, hp := att(base, PhasePrefill), att(head, PhasePrefill); bp.Kernels != hp.Kernels {
		t.Errorf("prefill attention kernels %d vs %d: want unchanged", bp.Kernels, hp.Kernels)
	}
	if r := head.Phases[PhaseDecode].Busy.P50 / base.Phases[PhaseDecode].Busy.P50; r < 1.1 || r > 1.4 {
		t.Errorf("decode busy ratio %.2f, want about 1.23", r)
	}
}

// TestThirdPartyTwoGPUs: a newer export schema, two devices, no
// TARGET_INFO_GPU and no step ranges still summarises.
func TestThirdPartyTwoGPUs(t *testing.T) {
	s := mustExport(t, fixture(t, "third-party/h100_2gpu_1s.sqlite"), Options{})
	if s.Source.ExportSchema != "3.25.0" || !strings.HasPrefix(s.Source.NsysVersion, "2026.2") {
		t.Errorf("source %+v", s.Source)
	}
	if s.GPU.Devices != 2 || len(s.Devices) != 2 || s.GPU.Name != "" {
		t.Errorf("gpu %+v devices %+v: want 2 devices, no name", s.GPU, s.Devices)
	}
	for _, d := range s.Devices {
		if d.Kernels != 1721 || d.BusyNs <= 0 {
			t.Errorf("device %+v: want 1721 kernels and busy time", d)
		}
	}
	if !hasWarning(s, WarnMissingTable) || !hasWarning(s, WarnInferredSteps) {
		t.Errorf("warnings %v: want missing TARGET_INFO_GPU and inferred steps", s.Warnings)
	}
	if len(s.Kernels) == 0 || len(s.Components) == 0 || len(s.Memory.Ops) == 0 {
		t.Errorf("want kernels, components and memory for the window")
	}
	// No step range: each rank's training iterations (29.3 ms, 62
	// kernels and 16 copies, no synchronisation) repeat, and are the
	// steps, 29 per rank.
	if d := s.Phases[PhaseDecode]; s.Source.StepSource != StepsRepeat || d == nil || d.Steps != 58 || d.Kernels.P50 != 62 || d.Span.P50 < 29e6 || d.Span.P50 > 29.7e6 {
		t.Errorf("steps found by %q: %+v, want 58 iterations of about 29.3 ms", s.Source.StepSource, d)
	}
	if s.GPUTime.WindowNs <= 0 || s.GPUTime.BusyNs <= 0 {
		t.Errorf("gpu time %+v", s.GPUTime)
	}
}

// TestUserRules: gate.yml phase regexes and component rules come first.
func TestUserRules(t *testing.T) {
	s := mustExport(t, export(t, "vllm_real"), Options{
		Phases:     map[string][]string{PhaseDecode: {`^execute_context_0\(0\)_generation_16\(16\)$`}},
		Components: []ComponentRule{{Name: "mul", Match: `MulFunctor`}},
	})
	if s.Phases[PhaseDecode].Steps != 96 || s.Phases[PhasePrefill].Steps != 2 {
		t.Errorf("phases %v", s.Phases)
	}
	found := false
	for _, c := range s.Components[0].Components {
		found = found || c.Name == "mul"
	}
	if !found {
		t.Errorf("user component rule unused: %+v", s.Components[0])
	}
	s = mustExport(t, export(t, "vllm_real"), Options{Phases: map[string][]string{PhaseDecode: {`^nothing$`}}})
	if _, ok := s.Phases[PhaseDecode]; ok {
		t.Errorf("decode overridden by a pattern that matches nothing still found steps")
	}
	if _, err := Export(context.Background(), export(t, "probe"), Options{Phases: map[string][]string{"warmup": {"x"}}}); err == nil {
		t.Error("unknown phase accepted")
	}
	if _, err := Export(context.Background(), export(t, "probe"), Options{Components: []ComponentRule{{Name: "x", Match: "("}}}); err == nil {
		t.Error("bad component regex accepted")
	}
}

// TestCommunicationSingleDevice: communication kernels on one device fill
// Communication (but no per-device rows); without them it stays nil.
func TestCommunicationSingleDevice(t *testing.T) {
	plain := mustExport(t, export(t, "probe"), Options{})
	if plain.Communication != nil || plain.Devices != nil || plain.GPU.Devices != 1 {
		t.Errorf("no NCCL: communication %+v devices %+v", plain.Communication, plain.Devices)
	}
	// Pretend the split-K reduction were a collective.
	s := mustExport(t, export(t, "probe"), Options{Components: []ComponentRule{{Name: CompCommunication, Match: "splitKreduce"}}})
	if s.Communication == nil || s.Communication.TimeNs <= 0 || s.Devices != nil || s.GPU.Devices != 1 {
		t.Fatalf("communication %+v devices %+v", s.Communication, s.Devices)
	}
	var k int64
	for _, kr := range s.Kernels {
		if kr.Name == "splitKreduce_kernel" {
			k = kr.TotalNs
		}
	}
	if s.Communication.TimeNs != k {
		t.Errorf("communication time %d, splitKreduce_kernel total %d", s.Communication.TimeNs, k)
	}
}
