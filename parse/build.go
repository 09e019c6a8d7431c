package parse

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/parse/internal/timeline"
)

// maxGaps is how many of the longest idle gaps a summary keeps.
const maxGaps = 5

// summary turns the loaded profile into the Summary model.
func (p *profile) summary() *Summary {
	a := p.acc
	s := &Summary{
		Schema: SummarySchema,
		Source: Source{
			File:         p.file,
			NsysVersion:  p.meta["EXPORT_PRODUCT_VERSION"],
			ExportSchema: p.meta["EXPORT_SCHEMA_VERSION"],
			TraceMode:    p.mode,
			Scope:        p.opts.Scope,
			StepSource:   p.stepSource,
		},
		GPU:      p.gpu,
		Phases:   p.phases(),
		Warnings: []Warning{},
	}
	lo, hi := p.window()
	s.Source.WindowStartNs, s.Source.WindowEndNs = lo, hi
	s.Kernels = p.kernelList(s.Phases)
	p.fillByKernel(s)
	s.Components = componentList(a.componentTimes())
	s.CUDAGraphs = graphs(a.graphs, p.mode, int64(len(a.graphKeys)))
	s.Memory = memoryList(a.mem, p.gpu.PeakBandwidth)
	s.GPUTime = gpuTime(&a.busy, lo, hi)
	s.GPU.Devices = len(a.devices)
	if p.devs != nil {
		s.GPU.Devices, s.Devices, s.Communication = p.deviceList(s.Kernels)
		if s.Communication != nil {
			p.resolveGeneric(s.Communication, a.kernelTotal)
		}
	}
	p.warnSummary(s)
	if n := len(p.unknownNames); n > 0 {
		p.warnf(WarnNullIds, "%d kernel name ids are missing from %s: those kernels are named \"unknown kernel (StringIds N)\"", n, tStrings)
	}
	s.Warnings = append(s.Warnings, p.warn...)
	sort.SliceStable(s.Warnings, func(i, j int) bool { return s.Warnings[i].Code < s.Warnings[j].Code })
	return s
}

// phases makes one Phase per phase that has steps, its samples in start
// order.
func (p *profile) phases() map[string]*Phase {
	byPhase := map[string][]Step{}
	for i, st := range p.steps {
		w := &p.acc.work[i]
		step := Step{
			KernelNs:      w.kernelNs,
			Kernels:       w.kernels,
			Memcpys:       w.memcpys,
			MemcpyBytes:   w.memcpyBytes,
			DtoH:          w.dtoh,
			Syncs:         st.syncs,
			Device:        int(w.device),
			Requests:      st.shape.requests,
			Tokens:        st.shape.tokens,
			GraphLaunches: w.graphLaunches,
			GraphKernels:  w.graphKernels,
			GraphNs:       w.graphNs,
		}
		if st.rng >= 0 {
			step.Name = p.ranges[st.rng].name
		}
		if start, end, ok := p.stepSpan(i); ok {
			step.StartNs = start
			step.SpanNs = end - start
			// The step's ops all lie inside its span: the union needs
			// no clipping.
			step.BusyNs = w.busy.Len()
		}
		byPhase[st.phase] = append(byPhase[st.phase], step)
	}
	out := map[string]*Phase{}
	for name, steps := range byPhase {
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].StartNs < steps[j].StartNs })
		out[name] = phaseFromSteps(name, p.mode, steps)
	}
	return out
}

// stepSpan is step i's projected GPU span: its range's, or for an inferred
// step the span of its ops; false when nothing projected onto it.
func (p *profile) stepSpan(i int) (start, end int64, ok bool) {
	if st := p.steps[i]; st.rng >= 0 {
		r := &p.ranges[st.rng]
		return r.spanStart, r.spanEnd, r.spanStart >= 0
	}
	w := &p.acc.work[i]
	return w.start, w.end, w.hasOps
}

// kernelText is the name classified into a component: the demangled name
// where the export has it (it says more: template arguments name the op).
func (p *profile) kernelText(op *gpuOp) string {
	if v, ok := p.strs[int64(op.demangled)]; ok && v != "" {
		return v
	}
	return p.kernelName(op.name)
}

// kernelName is the name of a kernel group. A name id that StringIds lacks
// (a damaged export) or no name at all gives a name that says so, and is
// counted for a warning, rather than "" for every such kernel.
func (p *profile) kernelName(id int32) string {
	if p.by == groupDemangledGridBlock {
		return p.groups[id]
	}
	if id == noName {
		return "unnamed kernel"
	}
	if s, ok := p.strs[int64(id)]; ok {
		return s
	}
	p.unknownNames[id] = true
	return fmt.Sprintf("unknown kernel (StringIds %d)", id)
}

// phaseFromSteps summarises step samples into a Phase: one export's, or
// the steps merged from several ranks.
func phaseFromSteps(name, mode string, steps []Step) *Phase {
	ph := &Phase{
		Steps:       len(steps),
		Span:        statBy(steps, func(s Step) int64 { return s.SpanNs }),
		Busy:        statBy(steps, func(s Step) int64 { return s.BusyNs }),
		KernelTime:  statBy(steps, func(s Step) int64 { return s.KernelNs }),
		Kernels:     statBy(steps, func(s Step) int64 { return int64(s.Kernels) }),
		Memcpys:     statBy(steps, func(s Step) int64 { return int64(s.Memcpys) }),
		MemcpyBytes: statBy(steps, func(s Step) int64 { return s.MemcpyBytes }),
		DtoH:        statBy(steps, func(s Step) int64 { return int64(s.DtoH) }),
		Syncs:       statBy(steps, func(s Step) int64 { return int64(s.Syncs) }),
		Samples:     steps,
	}
	ph.fillShape(name)
	ph.fillGraphs(mode)
	return ph
}

// direction names a memcpy's copyKind.
func (p *profile) direction(kind int32) string {
	if d, ok := p.copy[int64(kind)]; ok {
		return d
	}
	return "Unknown"
}

// fillByKernel sets each phase's per-kernel totals: one entry per kernel
// name and component, the component that of each demangled variant (as
// the component table counts it), so that the entries of a component add
// up to its time in the phase; the graph replays are one pseudo-entry.
func (p *profile) fillByKernel(s *Summary) {
	a := p.acc
	for name, ph := range s.Phases {
		i := phaseIndex(name)
		// Ids of one name (possible where a StringIds value repeats) merge.
		type key struct{ name, comp string }
		byKey := map[key]*PhaseKernel{}
		for j, k := range a.kernels {
			if k.launchesIn(i) == 0 {
				continue
			}
			n := p.kernelName(a.kernelIds[j])
			for _, c := range k.comps {
				t := c.phase[i]
				if t.n == 0 {
					continue
				}
				kk := key{n, a.comps[c.comp]}
				if m := byKey[kk]; m != nil {
					m.Launches += t.n
					m.TotalNs += t.ns
					continue
				}
				byKey[kk] = &PhaseKernel{Name: n, Component: kk.comp, Launches: t.n, TotalNs: t.ns}
			}
		}
		out := make([]PhaseKernel, 0, len(byKey)+1)
		for _, k := range byKey {
			out = append(out, *k)
		}
		if a.replays[i] {
			out = append(out, PhaseKernel{Name: GraphReplaysKernel, Component: GraphReplaysKernel, TotalNs: a.replayNs[i]})
		}
		sortPhaseKernels(out)
		ph.ByKernel = out
	}
}

// sortPhaseKernels orders per-kernel totals: most time first, then by name
// and component.
func sortPhaseKernels(ks []PhaseKernel) {
	slices.SortFunc(ks, func(a, b PhaseKernel) int {
		if c := cmp.Compare(b.TotalNs, a.TotalNs); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Component, b.Component))
	})
}

// kernelList turns the per-kernel aggregates into sorted Kernel rows:
// largest total time first, then by name.
func (p *profile) kernelList(phases map[string]*Phase) []Kernel {
	kernels, kernelTotal := p.acc.kernels, p.acc.kernelTotal
	out := make([]Kernel, 0, len(kernels))
	steps := func(name string) float64 {
		if ph := phases[name]; ph != nil {
			return float64(ph.Steps)
		}
		return 0
	}
	for i, k := range kernels {
		out = append(out, p.kernelRow(p.acc.kernelIds[i], k, kernelTotal, steps))
	}
	sortKernels(out)
	return out
}

// sortKernels orders kernel rows: most time first, then by name (and
// demangled name, for rows grouped otherwise).
func sortKernels(ks []Kernel) {
	slices.SortStableFunc(ks, func(a, b Kernel) int {
		return cmp.Or(cmp.Compare(b.TotalNs, a.TotalNs), strings.Compare(a.Name, b.Name), strings.Compare(a.Demangled, b.Demangled))
	})
}

// kernelRow is the Kernel row of kernel (group) id: statistics of its
// durations, its name and component from the variant with the most time,
// launches per step of the phases with steps.
func (p *profile) kernelRow(id int32, k *kernelAgg, kernelTotal int64, steps func(string) float64) Kernel {
	n, p50, p90, minNs, maxNs := k.durations.stats()
	best := k.mainVariant()
	name := p.kernelName(id)
	dem := p.strs[int64(best)]
	if dem == name {
		dem = ""
	}
	row := Kernel{
		Name:      name,
		Demangled: dem,
		Component: p.acc.rowComponent(best, name),
		Count:     int64(n),
		TotalNs:   k.total,
		AvgNs:     float64(k.total) / float64(n),
		P50Ns:     p50,
		P90Ns:     p90,
		MinNs:     minNs,
		MaxNs:     maxNs,
		Share:     ratio(float64(k.total), float64(kernelTotal)),
		InGraph:   k.inGraph,
	}
	if ds := steps(PhaseDecode); ds > 0 {
		row.PerDecodeStep = float64(k.launchesIn(phaseIndex(PhaseDecode))) / ds
	}
	if ps := steps(PhasePrefill); ps > 0 {
		row.PerPrefillStep = float64(k.launchesIn(phaseIndex(PhasePrefill))) / ps
	}
	return row
}

// componentTimes is the component time per phase (PhaseWindow for all), as
// componentList takes it.
func (a *opAcc) componentTimes() map[string]map[string]*ComponentTime {
	out := map[string]map[string]*ComponentTime{}
	for slot, cts := range a.compTime {
		phase := PhaseWindow
		if slot > 0 {
			phase = phaseNames[slot-1]
		}
		for i := range cts {
			if cts[i].Kernels == 0 {
				continue
			}
			if out[phase] == nil {
				out[phase] = map[string]*ComponentTime{}
			}
			out[phase][cts[i].Name] = &cts[i]
		}
	}
	return out
}

// componentList orders phases (window first) and components (most time
// first) and fills the shares.
func componentList(m map[string]map[string]*ComponentTime) []PhaseComponents {
	order := map[string]int{PhaseWindow: 0, PhasePrefill: 1, PhaseDecode: 2, PhaseMixed: 3}
	phases := sortedKeys(m)
	sort.SliceStable(phases, func(i, j int) bool { return order[phases[i]] < order[phases[j]] })
	out := []PhaseComponents{}
	for _, ph := range phases {
		var total int64
		var comps []ComponentTime
		for _, name := range sortedKeys(m[ph]) {
			c := m[ph][name]
			total += c.TimeNs
			comps = append(comps, *c)
		}
		for i := range comps {
			comps[i].Share = ratio(float64(comps[i].TimeNs), float64(total))
		}
		sort.SliceStable(comps, func(i, j int) bool { return comps[i].TimeNs > comps[j].TimeNs })
		out = append(out, PhaseComponents{Phase: ph, Components: comps})
	}
	return out
}

// graphs finishes the CUDA-graph coverage. In node mode a replay is one
// distinct launch among graph kernels.
func graphs(g Graphs, mode string, nodeReplays int64) Graphs {
	g.Mode = mode
	if mode == TraceNode {
		g.Replays = nodeReplays
	}
	g.setCoverage()
	return g
}

// setCoverage fills the coverage percentages from the counts. In graph
// mode each GRAPH_TRACE row is a replay whose kernels cannot be seen, so
// coverage by count is replays against all launches (replays + kernels
// outside graphs).
func (g *Graphs) setCoverage() {
	if g.Mode == TraceGraph {
		g.CoverageCount = 100 * ratio(float64(g.Replays), float64(g.Replays+g.KernelsOutside))
	} else {
		g.CoverageCount = 100 * ratio(float64(g.KernelsInGraphs), float64(g.KernelsInGraphs+g.KernelsOutside))
	}
	g.CoverageTime = 100 * ratio(float64(g.TimeInGraphsNs), float64(g.TimeInGraphsNs+g.TimeOutsideNs))
}

// memoryList finishes the memory operations of one export.
func memoryList(m map[[2]string]*MemoryOp, peak float64) Memory {
	ops := make([]MemoryOp, 0, len(m))
	for _, op := range m {
		ops = append(ops, *op)
	}
	return finishMemory(ops, peak)
}

// finishMemory sets the achieved bandwidth of each memory operation and
// sorts them by kind, then direction.
func finishMemory(ops []MemoryOp, peak float64) Memory {
	for i := range ops {
		ops[i].GBps = ratio(float64(ops[i].Bytes), float64(ops[i].TimeNs)) // bytes/ns = GB/s
	}
	slices.SortFunc(ops, func(a, b MemoryOp) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Direction, b.Direction))
	})
	return Memory{PeakBandwidth: peak, Ops: ops}
}

// gpuTime is how busy the GPU was in the window [lo, hi]: every in-scope op
// lies inside it (the window is the span of their projections), so the
// union needs no clipping.
func gpuTime(u *timeline.Union, lo, hi int64) GPUTime {
	t := GPUTime{WindowNs: hi - lo}
	var gaps []timeline.Gap
	t.BusyNs, gaps = u.Window(lo, hi)
	t.Gaps = gapList(gaps)
	t.IdleNs = t.WindowNs - t.BusyNs
	t.BusyPct = 100 * ratio(float64(t.BusyNs), float64(t.WindowNs))
	t.IdlePct = 100 * ratio(float64(t.IdleNs), float64(t.WindowNs))
	return t
}

// warnSummary adds the warnings that need the finished numbers.
func (p *profile) warnSummary(s *Summary) {
	if len(p.ranges) == 0 && p.inferred == nil {
		p.warnf(WarnNoNVTX, "%s: no scope or step ranges can be found; mark the steps with NVTX ranges", noNVTX)
	}
	if len(p.steps) == 0 {
		p.warnf(WarnNoSteps, "no step ranges found (prefill/decode or vLLM execute_context_* names) and no repeating step in the launch stream: phase metrics are empty; kernel, component, memory and graph metrics cover the whole window")
	}
	if p.mode == TraceGraph {
		p.warnf(WarnGraphTrace, "traced with --cuda-graph-trace=graph: each CUDA-graph replay is one opaque GPU op, so kernels inside graphs are not listed; compare only with graph-traced profiles (use --cuda-graph-trace=node for per-kernel detail)")
	}
	if p.mode == TraceNode && s.CUDAGraphs.KernelsInGraphs == 0 && p.graphLaunches > 0 {
		p.warnf(WarnGraphsUntraced, "%d cudaGraphLaunch calls but no kernel carries a graph node id and there is no graph trace: graph work is missing from the export (trace with --cuda-graph-trace=node)", p.graphLaunches)
	}
	empty := 0
	for i := range p.acc.work {
		if !p.acc.work[i].hasOps {
			empty++
		}
	}
	if empty > 0 {
		p.warnf(WarnEmptySteps, "%d step ranges launched no GPU work", empty)
	}
	overlaps := p.overlappingSteps()
	if overlaps > 0 {
		p.warnf(WarnOverlappingStep, "%d steps' projected GPU spans overlap the previous step of their process and device (asynchronous work spilled over): their spans double-count", overlaps)
	}
}

// overlappingSteps counts the steps whose projected GPU span begins before
// an earlier step of the same process and device has ended: async work of
// one step spilled into the next, so spans double-count. Steps of
// different processes or devices (the ranks of a tensor-parallel job) run
// at once by design and are never compared.
func (p *profile) overlappingSteps() int {
	type stream struct {
		pid    uint64
		device int32
	}
	type span struct{ s, e int64 }
	spans := map[stream][]span{}
	for i := range p.steps {
		if start, end, ok := p.stepSpan(i); ok {
			w := &p.acc.work[i]
			k := stream{w.pid, w.device}
			spans[k] = append(spans[k], span{start, end})
		}
	}
	overlaps := 0
	for _, ss := range spans {
		sort.Slice(ss, func(i, j int) bool { return ss[i].s < ss[j].s })
		var end int64 = -1
		for _, sp := range ss {
			if sp.s < end {
				overlaps++
			}
			end = max(end, sp.e)
		}
	}
	return overlaps
}
