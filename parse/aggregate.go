package parse

import (
	"math"
	"slices"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// opAcc adds up the GPU ops of an export as they stream by, in start order,
// into everything the summary reports: nothing per op is kept but each
// kernel's duration (exact medians need them all).
type opAcc struct {
	p   *profile
	ops int // every op seen, in scope or not
	// lo and hi span the in-scope ops (for the window without a scope).
	lo, hi int64

	work        []stepWork // per step
	kernels     []*kernelAgg
	kernelIds   []int32    // kernel name (group) id of each of kernels
	kernelIdx   denseIndex // kernel name (group) id -> kernels
	kernelTotal int64
	// sizes are the duration lists' sizes by kernel name (group) id,
	// where known before the pass (kernel records): lists allocated once
	// spare the copies and the slack of growing ones.
	sizes     map[int32]int
	compOf    denseIndex         // demangled id -> component index
	comps     []string           // component names by index
	compTime  [4][]ComponentTime // window, then per phase (phaseIndex+1), by component index
	graphs    Graphs
	graphKeys map[uint64]bool // distinct launches among graph kernels
	mem       map[[2]string]*MemoryOp
	replayNs  [3]int64 // graph-replay time per phase
	replays   [3]bool
	busy      timeline.Union // with the longest gaps
	devices   map[int32]bool
	comm      bool // a communication kernel ran
	// The last device and graph launch added to devices and graphKeys:
	// ops come in runs of both.
	device struct {
		id   int32
		seen bool
	}
	graphKey struct {
		key  uint64
		seen bool
	}
}

// kernelAgg accumulates one kernel name.
type kernelAgg struct {
	durations durations
	total     int64
	// variants is the time per demangled id, to pick the display name:
	// first and firstNs while there is one (the common case), the map
	// once there are more.
	first    int32
	firstNs  int64
	any      bool // first is set
	variants map[int32]int64
	inGraph  int64
	// comps holds the launches and time in each phase's steps by
	// component: the variants of one name can fall in different components
	// (Phase.ByKernel has an entry for each).
	comps []compPhases
}

// phaseTime is the launches and time of a kernel in one phase's steps.
type phaseTime struct{ n, ns int64 }

// compPhases is a kernel's phase times in one component (index into
// opAcc.comps).
type compPhases struct {
	comp  int32
	phase [3]phaseTime
}

// launchesIn is the kernel's launches in phase ph's steps, over its
// components.
func (k *kernelAgg) launchesIn(ph int) int64 {
	var n int64
	for _, c := range k.comps {
		n += c.phase[ph].n
	}
	return n
}

// inComp returns the kernel's phase times in component comp.
func (k *kernelAgg) inComp(comp int32) *compPhases {
	for i := range k.comps {
		if k.comps[i].comp == comp {
			return &k.comps[i]
		}
	}
	k.comps = append(k.comps, compPhases{comp: comp})
	return &k.comps[len(k.comps)-1]
}

// stepWork accumulates the GPU work of one step.
type stepWork struct {
	busy        timeline.Union
	kernels     int
	kernelNs    int64
	memcpys     int
	memcpyBytes int64
	dtoh        int
	// device and pid are the device and process of the step's first op
	// in table order (seq).
	device int32
	pid    uint64
	seq    int64
	hasOps bool
	// start and end span the step's ops (an inferred step has no range
	// to hold its projection).
	start, end int64
	// CUDA-graph launches (distinct), the kernels inside them and their
	// time; in graph-level traces each replay is a launch.
	graphLaunches, graphKernels int
	graphNs                     int64
}

// Phases by index, for per-phase arrays.
var phaseNames = [3]string{PhasePrefill, PhaseDecode, PhaseMixed}

func phaseIndex(name string) int {
	return slices.Index(phaseNames[:], name)
}

func newOpAcc(p *profile) *opAcc {
	var sizes map[int32]int
	if p.recs != nil {
		sizes = p.recs.perName()
	}
	return &opAcc{
		sizes: sizes,
		p:     p, lo: -1, hi: -1,
		work:      make([]stepWork, len(p.steps)),
		graphKeys: map[uint64]bool{},
		mem:       map[[2]string]*MemoryOp{},
		busy:      timeline.Union{Gaps: &timeline.TopGaps{N: maxGaps}},
		devices:   map[int32]bool{},
	}
}

// add accounts one op: projected onto its ranges, and when it counts
// toward the window, into every aggregate.
func (a *opAcc) add(op *gpuOp) {
	a.ops++
	p := a.p
	st, inScope, launch := p.project(op, true)
	if !inScope {
		return
	}
	if a.lo < 0 || op.start < a.lo {
		a.lo = op.start
	}
	a.hi = max(a.hi, op.end)
	a.busy.Add(op.start, op.end)
	if !a.device.seen || op.device != a.device.id {
		a.devices[op.device] = true
		a.device.id, a.device.seen = op.device, true
	}
	var w *stepWork
	ph := -1
	if st >= 0 {
		w = &a.work[st]
		ph = phaseIndex(p.steps[st].phase)
		if !w.hasOps {
			w.start, w.end = op.start, op.end
		}
		if !w.hasOps || op.seq < w.seq {
			w.device, w.pid, w.seq, w.hasOps = op.device, op.key>>40, op.seq, true
		}
		w.start, w.end = min(w.start, op.start), max(w.end, op.end)
		w.busy.Add(op.start, op.end)
	}
	dur := op.end - op.start
	switch op.kind {
	case opKernel:
		a.addKernel(op, dur, w, ph)
		if p.generic[op.name] && launch >= 0 {
			p.genericOps = append(p.genericOps, genericOp{dur: dur, rng: launch})
		}
	case opGraph:
		a.graphs.Replays++
		a.graphs.TimeInGraphsNs += dur
		if w != nil {
			w.kernelNs += dur
			w.graphLaunches++
			w.graphNs += dur
			a.replayNs[ph] += dur
			a.replays[ph] = true
		}
	case opMemcpy, opMemset:
		a.addMemory(op, dur, w)
	}
}

// addKernel accounts a kernel op of step work w (nil outside steps) in
// phase ph.
func (a *opAcc) addKernel(op *gpuOp, dur int64, w *stepWork, ph int) {
	a.kernelTotal += dur
	k := a.kernel(op.name)
	k.durations.add(dur)
	k.total += dur
	k.addVariant(op.demangled, dur)
	comp := a.component(op)
	a.addComp(0, comp, dur)
	if ph >= 0 {
		a.addComp(ph+1, comp, dur)
		c := &k.inComp(comp).phase[ph]
		c.n++
		c.ns += dur
	}
	a.comm = a.comm || a.comps[comp] == CompCommunication
	if op.inGraph {
		k.inGraph++
		a.graphs.KernelsInGraphs++
		a.graphs.TimeInGraphsNs += dur
		if op.key != a.graphKey.key || !a.graphKey.seen {
			if !a.graphKeys[op.key] {
				a.graphKeys[op.key] = true
				if w != nil {
					w.graphLaunches++
				}
			}
			a.graphKey.key, a.graphKey.seen = op.key, true
		}
		if w != nil {
			w.graphKernels++
			w.graphNs += dur
		}
	} else {
		a.graphs.KernelsOutside++
		a.graphs.TimeOutsideNs += dur
	}
	if w != nil {
		w.kernels++
		w.kernelNs += dur
	}
}

// addVariant adds time to a kernel's demangled variant.
func (k *kernelAgg) addVariant(dem int32, ns int64) {
	switch {
	case k.variants == nil && (!k.any || k.first == dem):
		k.first, k.any = dem, true
		k.firstNs += ns
	case k.variants == nil:
		k.variants = map[int32]int64{k.first: k.firstNs, dem: ns}
	default:
		k.variants[dem] += ns
	}
}

// mainVariant is the demangled id with the most time, the smallest id of
// a tie.
func (k *kernelAgg) mainVariant() int32 {
	if k.variants == nil {
		return k.first
	}
	var best int32
	var bestNs int64 = -1
	for v, ns := range k.variants {
		if ns > bestNs || (ns == bestNs && v < best) {
			best, bestNs = v, ns
		}
	}
	return best
}

// kernel returns the aggregate of a kernel name (group) id.
func (a *opAcc) kernel(id int32) *kernelAgg {
	i, ok := a.kernelIdx.get(id)
	if !ok {
		i = int32(len(a.kernels))
		a.kernelIdx.set(id, i)
		k := &kernelAgg{}
		if n := a.sizes[id]; n > 0 {
			k.durations.short = make([]uint32, 0, n)
		}
		a.kernels = append(a.kernels, k)
		a.kernelIds = append(a.kernelIds, id)
	}
	return a.kernels[i]
}

// component returns the component index of a kernel op, classified once
// per demangled name.
func (a *opAcc) component(op *gpuOp) int32 {
	if i, ok := a.compOf.get(op.demangled); ok {
		return i
	}
	name := a.p.classes.component(a.p.kernelText(op))
	i := int32(slices.Index(a.comps, name))
	if i < 0 {
		i = int32(len(a.comps))
		a.comps = append(a.comps, name)
	}
	a.compOf.set(op.demangled, i)
	return i
}

// rowComponent is the component of a kernel row named name whose main
// variant has demangled id best: its demangled name classified, else the
// short name. The ops already classified it where the demangled name is
// not empty.
func (a *opAcc) rowComponent(best int32, name string) string {
	dem := a.p.strs[int64(best)]
	if i, ok := a.compOf.get(best); ok && dem != "" {
		return a.comps[i]
	}
	if dem == "" {
		dem = name
	}
	return a.p.classes.component(dem)
}

// addComp adds a kernel's time to component comp of slot (0 the window,
// else a phase).
func (a *opAcc) addComp(slot int, comp int32, dur int64) {
	ct := a.compTime[slot]
	for int(comp) >= len(ct) {
		ct = append(ct, ComponentTime{Name: a.comps[len(ct)]})
	}
	ct[comp].TimeNs += dur
	ct[comp].Kernels++
	a.compTime[slot] = ct
}

// addMemory accounts a memcpy or memset.
func (a *opAcc) addMemory(op *gpuOp, dur int64, w *stepWork) {
	kind, dir := "memset", ""
	if op.kind == opMemcpy {
		kind, dir = "memcpy", a.p.direction(op.name)
	}
	m := a.mem[[2]string{kind, dir}]
	if m == nil {
		m = &MemoryOp{Kind: kind, Direction: dir}
		a.mem[[2]string{kind, dir}] = m
	}
	m.Count++
	m.Bytes += op.bytes
	m.TimeNs += dur
	if w != nil && op.kind == opMemcpy {
		w.memcpys++
		w.memcpyBytes += op.bytes
		if dir == "DtoH" {
			w.dtoh++
		}
	}
}

// needDevices says whether per-device accounting has anything to say:
// more than one device, or a communication kernel.
func (a *opAcc) needDevices() bool {
	return len(a.devices) > 1 || a.comm
}

// opClass is what an in-scope op is for the per-device accounting.
func (a *opAcc) opClass(op *gpuOp) timeline.Class {
	switch op.kind {
	case opKernel:
		if a.comps[a.component(op)] == CompCommunication {
			return timeline.Comm
		}
		return timeline.Compute
	case opGraph:
		return timeline.Compute
	}
	return timeline.Memory
}

// denseIndex maps small non-negative ids (string ids, group ids) to int32
// values in a slice; other ids fall back to a map.
type denseIndex struct {
	dense []int32 // value+1, 0 for none
	other map[int32]int32
}

// maxDense bounds the slice: string ids are row ids of StringIds.
const maxDense = 1 << 22

func (d *denseIndex) get(id int32) (int32, bool) {
	if id >= 0 && int(id) < len(d.dense) {
		v := d.dense[id]
		return v - 1, v != 0
	}
	v, ok := d.other[id]
	return v, ok
}

func (d *denseIndex) set(id, v int32) {
	if id >= 0 && id < maxDense {
		if int(id) >= len(d.dense) {
			n := max(int(id)+1, 2*len(d.dense))
			d.dense = append(d.dense, make([]int32, n-len(d.dense))...)
		}
		d.dense[id] = v + 1
		return
	}
	if d.other == nil {
		d.other = map[int32]int32{}
	}
	d.other[id] = v
}

// durations keeps a kernel's launch durations for its exact median and
// p90: 4 bytes each while every one fits 32 bits (kernels shorter than 4.3
// s), 8 bytes once one does not.
type durations struct {
	short []uint32
	long  []int64 // all of them, once one did not fit
}

func (d *durations) add(ns int64) {
	if d.long == nil && ns >= 0 && ns <= math.MaxUint32 {
		d.short = append(d.short, uint32(ns))
		return
	}
	if d.long == nil {
		d.long = make([]int64, len(d.short), 2*len(d.short)+1)
		for i, v := range d.short {
			d.long[i] = int64(v)
		}
		d.short = nil
	}
	d.long = append(d.long, ns)
}

// stats sorts the durations and returns their count, median, p90, min and
// max.
func (d *durations) stats() (n int, p50, p90 float64, lo, hi int64) {
	if d.long != nil {
		return sortedStats(d.long)
	}
	return sortedStats(d.short)
}

func sortedStats[T int64 | uint32](v []T) (n int, p50, p90 float64, lo, hi int64) {
	slices.Sort(v)
	n = len(v)
	return n, stats.Median(v), stats.Percentile(v, 0.9), int64(v[0]), int64(v[n-1])
}
