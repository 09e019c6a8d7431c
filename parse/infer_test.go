package parse

import (
	"slices"
	"testing"
	"time"
)

// launchLog builds one process's launch stream for the step inference tests:
// tokens are named with a letter each (K kernel, G graph, M memcpy, S
// memset), syncs end runs.
type launchLog struct {
	pl   procLaunches
	corr uint32
}

func (t *launchLog) kernel(name uint32, ns uint32) {
	t.corr++
	t.pl.launches = append(t.pl.launches, launch{corr: t.corr, ns: ns, tok: launchToken(tokKernel, name)})
}

func (t *launchLog) graph(kernels int32, ns uint32) {
	t.corr++
	t.pl.launches = append(t.pl.launches, launch{corr: t.corr, ns: ns, tok: launchToken(tokGraph, uint32(kernels))})
}

func (t *launchLog) copy(kind uint32) {
	t.corr++
	t.pl.launches = append(t.pl.launches, launch{corr: t.corr, ns: 900, tok: launchToken(tokMemcpy, kind)})
}

func (t *launchLog) sync() {
	t.corr++
	t.pl.syncs = append(t.pl.syncs, t.corr)
}

// Kernel names of the synthetic model: a layer is four kernels, a step
// (eager) is a gather, eight layers, the head and argmax.
const (
	kFill, kMask, kGather, kNorm, kGemm, kAttn, kAct, kHead, kArgmax, kPrefillAttn = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	copyHtoD, copyDtoH, copyDtoD                                                   = 1, 2, 8
)

func (t *launchLog) layers(attn uint32, ns uint32) {
	for range 8 {
		for _, k := range []uint32{kNorm, kGemm, attn, kAct} {
			t.kernel(k, ns)
		}
	}
}

// prefill is a request's prefill: prompt upload, an eager forward, the
// first token read back (a synchronisation).
func (t *launchLog) prefill() {
	t.copy(copyHtoD)
	t.kernel(kGather, 5000)
	t.layers(kPrefillAttn, 50_000)
	t.kernel(kHead, 40_000)
	t.kernel(kArgmax, 2000)
	t.copy(copyDtoH)
	t.sync()
}

func (t *launchLog) eagerStep() {
	t.kernel(kFill, 800)
	t.kernel(kMask, 800)
	t.kernel(kGather, 800)
	t.layers(kAttn, 3000)
	t.kernel(kHead, 9000)
	t.kernel(kArgmax, 900)
	t.copy(copyDtoD)
}

// setup is a request's set-up before its prefill: the cache allocated
// and the input's mask checked, one synchronisation.
func (t *launchLog) setup() {
	t.copy(copyDtoD)
	t.kernel(kFill, 800)
	t.kernel(kMask, 800)
	t.copy(copyDtoH)
	t.sync()
}

// bookkeeping is what transformers' generate does between two forwards:
// the next inputs gathered, a flag read back.
func (t *launchLog) bookkeeping() {
	t.kernel(kGather, 800)
	t.kernel(kMask, 700)
	t.kernel(kFill, 600)
	t.copy(copyDtoH)
	t.sync()
}

// prepare is a step's input preparation in a run of its own (vLLM-like):
// the batch's ids and positions uploaded, a few small kernels.
func (t *launchLog) prepare() {
	t.copy(copyHtoD)
	t.copy(copyHtoD)
	t.kernel(kFill, 900)
	t.kernel(kGather, 900)
	t.sync()
}

func (t *launchLog) graphStep() {
	t.kernel(kFill, 800)
	t.kernel(kFill, 800)
	t.kernel(kMask, 800)
	t.graph(277, 1_150_000)
	t.copy(copyDtoD)
}

func count(inf inference, phase string) int {
	n := 0
	for _, s := range inf.steps {
		if s.phase == phase {
			n++
		}
	}
	return n
}

func TestInferSteps(t *testing.T) {
	cases := []struct {
		name            string
		build           func(t *launchLog)
		method          string
		decode, prefill int
		decodeSyncs     int // summed over decode steps
	}{
		{"graph decode, a sync per request", func(t *launchLog) {
			for range 2 {
				t.prefill()
				t.copy(copyDtoD)
				for range 48 {
					t.graphStep()
				}
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsGraph, 96, 2, 2},
		{"graph decode, three requests", func(t *launchLog) {
			for range 3 {
				t.prefill()
				for range 10 {
					t.graphStep()
				}
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsGraph, 30, 3, 3},
		{"graph decode, a sync per step", func(t *launchLog) {
			for range 2 {
				t.prefill()
				for range 48 {
					t.graphStep()
					t.copy(copyDtoH)
					t.sync()
				}
			}
		}, StepsGraph, 96, 2, 96},
		{"eager decode, a sync per step", func(t *launchLog) {
			for range 2 {
				t.prefill()
				for range 20 {
					t.eagerStep()
					t.copy(copyDtoH)
					t.sync()
				}
			}
		}, StepsSync, 40, 2, 40},
		{"eager decode, no sync but per request", func(t *launchLog) {
			for range 2 {
				t.prefill()
				t.copy(copyDtoD)
				for range 48 {
					t.eagerStep()
				}
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsRepeat, 96, 2, 2},
		{"eager decode, three requests without a sync per step", func(t *launchLog) {
			for range 3 {
				t.prefill()
				for range 12 {
					t.eagerStep()
				}
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsRepeat, 36, 3, 3},
		{"piecewise decode", func(t *launchLog) {
			t.prefill()
			for range 20 {
				t.copy(copyHtoD)
				t.kernel(kFill, 800)
				t.graph(12, 90_000)
				for range 3 {
					t.kernel(kAttn, 5000)
					t.graph(20, 100_000)
				}
				t.kernel(kArgmax, 900)
				t.copy(copyDtoH)
			}
			t.sync()
		}, StepsGraph, 20, 1, 1},
		{"eager decode, a bookkeeping sync between forwards (transformers' generate)", func(t *launchLog) {
			for range 2 {
				t.setup()
				t.prefill() // its forward ends with the stopping check
				for range 20 {
					t.bookkeeping()
					t.eagerStep()
					t.copy(copyDtoH)
					t.sync()
				}
			}
		}, StepsSync, 40, 2, 80},
		{"eager decode, a forward then its bookkeeping", func(t *launchLog) {
			for range 2 {
				t.setup()
				t.prefill()
				for range 20 {
					t.eagerStep()
					t.copy(copyDtoH)
					t.sync()
					t.bookkeeping()
				}
			}
		}, StepsSync, 40, 2, 80},
		{"graph decode, inputs prepared in a run of their own (vLLM-like)", func(t *launchLog) {
			for range 3 {
				t.prepare()
				t.prefill()
				for range 10 {
					t.prepare()
					t.graphStep()
					t.copy(copyDtoH)
					t.sync()
				}
			}
		}, StepsGraph, 30, 3, 60},
		{"eager decode, requests of three steps each", func(t *launchLog) {
			for range 6 {
				t.prefill()
				for range 3 {
					t.eagerStep()
					t.copy(copyDtoH)
					t.sync()
				}
			}
		}, StepsSync, 18, 6, 18},
		{"piecewise decode, a sync per step", func(t *launchLog) {
			t.prefill()
			for range 20 {
				t.copy(copyHtoD)
				t.graph(12, 90_000)
				for range 6 {
					t.kernel(kAttn, 5000)
					t.graph(20, 100_000)
				}
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsGraph, 20, 1, 20},
		{"piecewise prefill and decode, the same pieces, a sync per step", func(t *launchLog) {
			// The prefill replays the pieces decode does (captured for
			// its token count) with its own attention between them:
			// two kernels a layer, not one.
			for step := range 21 {
				t.copy(copyHtoD)
				t.graph(12, 90_000)
				for range 6 {
					t.kernel(kAttn, 5000)
					if step == 0 {
						t.kernel(kPrefillAttn, 50_000)
					}
					t.graph(20, 100_000)
				}
				t.kernel(kArgmax, 900)
				t.copy(copyDtoH)
				t.sync()
			}
		}, StepsGraph, 20, 1, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tl launchLog
			c.build(&tl)
			tl.pl.pid = 7
			inf := inferSteps([]procLaunches{tl.pl}, InferOptions{})
			if inf.method != c.method {
				t.Errorf("method %q, want %q", inf.method, c.method)
			}
			if n := count(inf, PhaseDecode); n != c.decode {
				t.Errorf("%d decode steps, want %d", n, c.decode)
			}
			if n := count(inf, PhasePrefill); n != c.prefill {
				t.Errorf("%d prefill steps, want %d", n, c.prefill)
			}
			syncs := 0
			var prev uint32
			for i, s := range inf.steps {
				if s.phase == PhaseDecode {
					syncs += s.syncs
				}
				if s.lo > s.hi || i > 0 && s.lo <= prev {
					t.Errorf("step %d: [%d, %d] after %d: steps must be disjoint and in order", i, s.lo, s.hi, prev)
				}
				prev = s.hi
			}
			if syncs != c.decodeSyncs {
				t.Errorf("%d syncs in decode steps, want %d", syncs, c.decodeSyncs)
			}
		})
	}
}

// TestInferStepsNone: a stream without repetition, or with inference
// turned off, has no steps.
func TestInferStepsNone(t *testing.T) {
	var tl launchLog
	for i := range 50 {
		tl.kernel(uint32(100+i), 1000)
	}
	if inf := inferSteps([]procLaunches{tl.pl}, InferOptions{}); len(inf.steps) != 0 || inf.method != "" {
		t.Errorf("distinct kernels: %s %d steps, want none", inf.method, len(inf.steps))
	}
	var one launchLog
	one.prefill() // eight layers repeat, but copy nothing: not steps
	if inf := inferSteps([]procLaunches{one.pl}, InferOptions{}); len(inf.steps) != 0 {
		t.Errorf("a prefill alone: %s %d steps, want none (layers are not steps)", inf.method, len(inf.steps))
	}
	var g launchLog
	for range 10 {
		g.graphStep()
	}
	if inf := inferSteps([]procLaunches{g.pl}, InferOptions{Repeating: PhaseNone}); len(inf.steps) != 0 {
		t.Errorf("repeating: none: %d steps, want none", len(inf.steps))
	}
	inf := inferSteps([]procLaunches{g.pl}, InferOptions{Repeating: PhasePrefill, Large: PhaseNone})
	if n := count(inf, PhasePrefill); n != 10 {
		t.Errorf("repeating: prefill: %d prefill steps, want 10", n)
	}
}

func TestInferOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		o   InferOptions
		bad bool
	}{
		{InferOptions{}, false},
		{InferOptions{Repeating: "decode", Large: "none", MinRepeats: 5}, false},
		{InferOptions{Repeating: "decoding"}, true},
		{InferOptions{Repeating: "prefill"}, false},
		{InferOptions{Repeating: "decode", Large: "decode"}, true},
		{InferOptions{MinRepeats: 1}, true},
		{InferOptions{MinRepeats: -2}, true},
	} {
		if err := c.o.Validate(); (err != nil) != c.bad {
			t.Errorf("%+v: %v, want error %v", c.o, err, c.bad)
		}
	}
}

// A sanity check of the test's own helpers.
func TestTimelineHelpers(t *testing.T) {
	var tl launchLog
	tl.eagerStep()
	if got := len(tl.pl.launches); got != 3+32+3 {
		t.Fatalf("eager step: %d launches", got)
	}
}

// FuzzInferSteps: any launch stream, with any synchronisations, gives
// steps that are in order, disjoint and made of its launches, never a
// panic.
func FuzzInferSteps(f *testing.F) {
	var seed launchLog
	seed.prefill()
	for range 5 {
		seed.graphStep()
	}
	f.Add([]byte{1, 2, 3, 0x80, 1, 2, 3, 0x80, 1, 2, 3, 0x40, 1, 2, 3, 0xc0})
	f.Add([]byte{7, 7, 7, 7, 7, 7, 0x41, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		var l launchLog
		for _, b := range data {
			switch {
			case b == 0xff:
				l.sync()
			case b>>6 == 3:
				l.graph(int32(b&7)+1, 1000)
			case b>>6 == 1:
				l.copy(uint32(b & 3))
			default:
				l.kernel(uint32(b&15), uint32(b)*100)
			}
		}
		inf := inferSteps([]procLaunches{l.pl}, InferOptions{})
		var prev uint32
		for i, s := range inf.steps {
			if s.lo > s.hi || i > 0 && s.lo <= prev || s.hi > l.corr || s.syncs < 0 {
				t.Fatalf("step %d [%d, %d] after %d of %d launches", i, s.lo, s.hi, prev, l.corr)
			}
			if s.phase != PhaseDecode && s.phase != PhasePrefill {
				t.Fatalf("step %d phase %q", i, s.phase)
			}
			prev = s.hi
		}
		if len(inf.steps) > 0 && inf.method == "" {
			t.Fatal("steps without a method")
		}
	})
}

// TestInferStepsCost: a long run of graph replays that copy nothing (no
// step can be cut) and a long eager run are both dismissed in linear time.
func TestInferStepsCost(t *testing.T) {
	var l launchLog
	for range 20000 {
		l.graph(277, 1000)
		l.kernel(kFill, 800)
	}
	for i := range 200000 {
		l.kernel(uint32(i%13), 800)
	}
	start := time.Now()
	inf := inferSteps([]procLaunches{l.pl}, InferOptions{})
	if d := time.Since(start); d > 2*time.Second || len(inf.steps) != 0 {
		t.Errorf("%d steps in %v: want none, quickly", len(inf.steps), d)
	}
	// 100k synchronised runs all the same (no group of them can be an
	// iteration), then 50k iterations of a forward and its bookkeeping,
	// which hold as much work: the iterations are surer steps.
	var r launchLog
	for range 100_000 {
		r.kernel(kGemm, 5000)
		r.copy(copyDtoH)
		r.sync()
	}
	for range 50_000 {
		r.kernel(kGemm, 5000)
		r.kernel(kHead, 5000)
		r.copy(copyDtoH)
		r.sync()
		r.kernel(kMask, 500)
		r.sync()
	}
	start = time.Now()
	inf = inferSteps([]procLaunches{r.pl}, InferOptions{})
	if d := time.Since(start); d > 2*time.Second || count(inf, PhaseDecode) != 50_000 {
		t.Errorf("%d decode steps in %v: want the 50000 iterations, quickly", count(inf, PhaseDecode), d)
	}
}

// TestInferStepsPrefillIteration: where a decode step is a group of runs
// (its inputs prepared in a run of their own, then the forward), the
// prefill step is its iteration too: the preparation run and the forward,
// two synchronisations, and nothing of the request before.
func TestInferStepsPrefillIteration(t *testing.T) {
	var tl launchLog
	var starts []uint32 // each request's prepare run
	for range 3 {
		tl.setup()
		starts = append(starts, tl.corr+1)
		tl.prepare()
		tl.prefill()
		for range 10 {
			tl.prepare()
			tl.eagerStep()
			tl.copy(copyDtoH)
			tl.sync()
		}
	}
	inf := inferSteps([]procLaunches{tl.pl}, InferOptions{})
	var got []uint32
	for _, s := range inf.steps {
		if s.phase != PhasePrefill {
			continue
		}
		got = append(got, s.lo)
		if s.syncs != 2 {
			t.Errorf("prefill step [%d, %d]: %d syncs, want 2 (its preparation's and its forward's)", s.lo, s.hi, s.syncs)
		}
	}
	if !slices.Equal(got, starts) {
		t.Errorf("prefill steps start at %v, want %v (each request's preparation run)", got, starts)
	}
	if n := count(inf, PhaseDecode); n != 30 {
		t.Errorf("%d decode steps, want 30", n)
	}
}

// TestInferStepsStaticCache: transformers' generate() with a static KV
// cache (as recorded in hfn_static): the prefill runs eager and reads a
// value back in each of its layers, each decode iteration is one run
// between host synchronisations: the next inputs prepared (eager), copied
// into the graph's buffers, the compiled forward replayed, the token
// sampled (eager) and read back. An eager token recurs at a fixed stride
// around the replay, but every iteration is one step; it begins at the
// copies (the preparation is between steps), the last iteration of a
// request launches two kernels fewer and is a step all the same, and the
// prefill step holds all its layers' runs.
func TestInferStepsStaticCache(t *testing.T) {
	var tl launchLog
	var copies []uint32 // each decode step's first copy
	for range 3 {
		tl.setup()
		tl.kernel(kGather, 5000)
		for range 12 {
			tl.layers(kPrefillAttn, 5000) // 32 kernels, 160 µs
			tl.copy(copyDtoH)
			tl.sync()
		}
		for s := range 20 {
			tl.kernel(kGather, 1000)
			tl.kernel(kFill, 1000)
			tl.kernel(kMask, 1000)
			tl.kernel(kGather, 1000)
			copies = append(copies, tl.corr+1)
			for range 3 {
				tl.copy(copyDtoD)
			}
			tl.graph(188, 860_000)
			// kFill recurs at a fixed stride, each piece copying.
			tl.kernel(kArgmax, 1000)
			tl.kernel(kFill, 1000)
			tl.kernel(kMask, 1000)
			tl.copy(copyDtoD)
			tl.kernel(kArgmax, 1000)
			tl.kernel(kFill, 1000)
			if s < 19 {
				tl.kernel(kMask, 1000)
				tl.kernel(kMask, 1000)
			}
			tl.copy(copyDtoH)
			tl.sync()
		}
	}
	inf := inferSteps([]procLaunches{tl.pl}, InferOptions{})
	if inf.method != StepsGraph {
		t.Errorf("method %q, want %q", inf.method, StepsGraph)
	}
	var starts []uint32
	prefills := 0
	for _, s := range inf.steps {
		switch s.phase {
		case PhaseDecode:
			starts = append(starts, s.lo)
			if s.syncs != 1 {
				t.Errorf("decode step [%d, %d]: %d syncs, want 1", s.lo, s.hi, s.syncs)
			}
		case PhasePrefill:
			prefills++
			if s.syncs != 12 {
				t.Errorf("prefill step [%d, %d]: %d syncs, want 12 (one per layer)", s.lo, s.hi, s.syncs)
			}
		}
	}
	if !slices.Equal(starts, copies) {
		t.Errorf("%d decode steps starting at %v, want %d at each iteration's first copy %v", len(starts), starts, len(copies), copies)
	}
	if prefills != 3 {
		t.Errorf("%d prefill steps, want 3", prefills)
	}
}
