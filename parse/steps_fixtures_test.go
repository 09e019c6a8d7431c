package parse

import (
	"math"
	"reflect"
	"testing"
)

// TestVLLMStepShapes: every step name of the vllm_real export gives its
// tokens and requests; prefill has a time per token.
func TestVLLMStepShapes(t *testing.T) {
	s := mustExport(t, export(t, "vllm_real"), Options{Scope: "benchmark"})
	want := map[string][2]int{PhasePrefill: {16, 8192}, PhaseDecode: {16, 16}}
	for name, w := range want {
		ph := s.Phases[name]
		for i, x := range ph.Samples {
			if x.Requests != w[0] || x.Tokens != w[1] {
				t.Errorf("%s step %d %q: %d requests, %d tokens, want %d and %d", name, i, x.Name, x.Requests, x.Tokens, w[0], w[1])
			}
		}
		if ph.Tokens == nil || ph.Tokens.P50 != float64(w[1]) || ph.Requests == nil || ph.Requests.P50 != float64(w[0]) {
			t.Errorf("%s: tokens %+v requests %+v", name, ph.Tokens, ph.Requests)
		}
		var tokens, span float64
		for _, x := range ph.Samples {
			tokens += float64(x.Tokens)
			span += float64(x.SpanNs)
		}
		if got := tokens / span * 1e9; math.Abs(ph.TokensPerS/got-1) > 1e-9 {
			t.Errorf("%s: %g tokens/s, want %g", name, ph.TokensPerS, got)
		}
	}
	pre := s.Phases[PhasePrefill]
	if pre.NsPerToken == nil || math.Abs(pre.NsPerToken.P50-pre.Span.P50/8192) > 1 {
		t.Errorf("prefill ns/token %+v, want span p50 %g / 8192", pre.NsPerToken, pre.Span.P50)
	}
	if s.Phases[PhaseDecode].NsPerToken != nil {
		t.Errorf("decode has a time per token: its tokens are the batch, not a prompt")
	}
	// Plain names say nothing about shapes.
	b := mustExport(t, export(t, "base_a"), Options{Scope: "benchmark"})
	if ph := b.Phases[PhaseDecode]; ph.Tokens != nil || ph.Requests != nil || ph.TokensPerS != 0 {
		t.Errorf("base_a decode: tokens %+v requests %+v", ph.Tokens, ph.Requests)
	}
}

// TestPhaseGraphs: the per-phase CUDA-graph figures of the fixtures. Base
// decode replays one graph of 277 kernels per step (vLLM's FULL), prefill
// is eager; without graphs decode is eager; graph-level traces count each
// replay as one launch whose kernels cannot be seen.
func TestPhaseGraphs(t *testing.T) {
	for _, c := range []struct {
		fixture         string
		decodeMode      string
		launches, nodes int // per decode step
	}{
		{"base_a", GraphFull, 1, 277},
		{"vllm_real", GraphFull, 1, 277},
		{"regress_double_attn", GraphFull, 1, 325}, // sqlite3: count(*) of graph kernels by correlationId
		{"regress_no_graphs", GraphEager, 0, 0},
		{"base_graphmode", GraphFull, 1, 0},
	} {
		t.Run(c.fixture, func(t *testing.T) {
			s := mustExport(t, export(t, c.fixture), Options{Scope: "benchmark"})
			d, p := s.Phases[PhaseDecode], s.Phases[PhasePrefill]
			if d.Graphs == nil || d.Graphs.Mode != c.decodeMode || p.Graphs == nil || p.Graphs.Mode != GraphEager {
				t.Fatalf("decode %+v, prefill %+v: want %s and eager", d.Graphs, p.Graphs, c.decodeMode)
			}
			for i, x := range d.Samples {
				if x.GraphLaunches != c.launches || x.GraphKernels != c.nodes {
					t.Errorf("decode step %d: %d graph launches, %d kernels in graphs, want %d and %d", i, x.GraphLaunches, x.GraphKernels, c.launches, c.nodes)
				}
			}
			if d.Graphs.Launches.P50 != float64(c.launches) || p.Graphs.Launches.Max != 0 || p.Graphs.CoverageCount != 0 {
				t.Errorf("decode launches %+v, prefill %+v", d.Graphs.Launches, p.Graphs)
			}
			// A full graph holds nearly all of a step: by time, and in
			// node-level traces by count (in graph-level ones a replay
			// counts as one launch against the step's 3 eager kernels).
			wantCount := 90.0
			if s.Source.TraceMode == TraceGraph {
				wantCount = 25
			}
			if c.decodeMode == GraphFull && (d.Graphs.CoverageTime < 90 || math.Abs(d.Graphs.CoverageCount-wantCount) > 10) {
				t.Errorf("decode coverage %.1f%% by count, %.1f%% by time", d.Graphs.CoverageCount, d.Graphs.CoverageTime)
			}
		})
	}
}

func TestGraphMode(t *testing.T) {
	for _, c := range []struct {
		launches, coverage float64
		want               string
	}{
		{0, 0, GraphEager}, {1, 98.9, GraphFull}, {1, 30, GraphPiecewise}, {33, 70, GraphPiecewise}, {0.4, 20, GraphEager},
	} {
		if got := GraphMode(c.launches, c.coverage); got != c.want {
			t.Errorf("GraphMode(%g, %g) = %s, want %s", c.launches, c.coverage, got, c.want)
		}
	}
}

// stepRanges selects the vllm_real export's step ranges.
const stepRanges = `text LIKE 'execute_context%'`

// TestStartEndRanges: the same steps as start/end ranges (eventType 60)
// give the same phases as push/pop ranges.
func TestStartEndRanges(t *testing.T) {
	opts := Options{Scope: "benchmark"}
	want := mustExport(t, export(t, "vllm_real"), opts)
	got := mustExport(t, edited(t, "vllm_real", `UPDATE NVTX_EVENTS SET eventType = 60 WHERE `+stepRanges), opts)
	if got.Source.StepSource != StepsNVTX || !reflect.DeepEqual(got.Phases, want.Phases) {
		t.Errorf("start/end steps (%s) differ from push/pop ones", got.Source.StepSource)
	}
}

// TestNVTXDomains: nvtx-domain picks the domain whose ranges are steps;
// ranges of another domain are not, and steps are then inferred.
func TestNVTXDomains(t *testing.T) {
	path := edited(t, "vllm_real",
		`INSERT INTO NVTX_EVENTS (start, eventType, text, globalTid, domainId)
			SELECT min(start), 75, 'vllm', globalTid, 7 FROM NVTX_EVENTS WHERE `+stepRanges,
		`UPDATE NVTX_EVENTS SET domainId = 7 WHERE `+stepRanges)
	all := mustExport(t, path, Options{Scope: "benchmark"})
	own := mustExport(t, path, Options{Scope: "benchmark", Domain: "vllm"})
	other := mustExport(t, path, Options{Scope: "benchmark", Domain: DefaultDomain})
	if all.Phases[PhaseDecode].Steps != 96 || !reflect.DeepEqual(all.Phases, own.Phases) || own.Source.StepSource != StepsNVTX {
		t.Errorf("domain vllm: %d decode steps by %s, want the 96 of every domain", own.Phases[PhaseDecode].Steps, own.Source.StepSource)
	}
	if other.Source.StepSource == StepsNVTX || !hasWarning(other, WarnInferredSteps) {
		t.Errorf("default domain: steps found by %s, want inferred (the step ranges are vllm's)", other.Source.StepSource)
	}
}

// TestNestedRangesAreNotSteps: a range nested in a step that a pattern
// also matches (vLLM's gpu_model_runner: forward) is part of its step,
// never a step of its own: the steps and their work are unchanged.
func TestNestedRangesAreNotSteps(t *testing.T) {
	opts := Options{Scope: "benchmark", Phases: map[string][]string{PhaseDecode: {`generation_[1-9]`, `forward`}}}
	want := mustExport(t, export(t, "vllm_real"), opts)
	path := edited(t, "vllm_real", `INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid)
		SELECT start + 1, end - 1, 59, 'gpu_model_runner: forward', globalTid FROM NVTX_EVENTS WHERE `+stepRanges)
	got := mustExport(t, path, opts)
	wd, gd := want.Phases[PhaseDecode], got.Phases[PhaseDecode]
	if gd.Steps != wd.Steps || gd.Kernels != wd.Kernels || gd.Span != wd.Span || gd.KernelTime != wd.KernelTime {
		t.Errorf("with nested ranges: %d decode steps, kernels %+v, span %+v; without: %d, %+v, %+v",
			gd.Steps, gd.Kernels, gd.Span, wd.Steps, wd.Kernels, wd.Span)
	}
	// The nested range alone, without the outer step's name, is the step.
	alone := mustExport(t, path, Options{Scope: "benchmark", Phases: map[string][]string{PhaseDecode: {`forward`}, PhasePrefill: {`^$`}}})
	if alone.Phases[PhaseDecode] == nil || alone.Phases[PhaseDecode].Steps != 98 {
		t.Errorf("forward ranges as the steps: %v", alone.Phases)
	}
}
