package parse

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/nsys-gate/gate/internal/stats"
)

// maxGaps is how many of the longest idle gaps a summary keeps.
const maxGaps = 5

// kernelAgg accumulates one kernel name.
type kernelAgg struct {
	durations []int64
	total     int64
	inGraph   int64
	prefill   int64
	decode    int64
	variants  map[int32]int64 // demangled id -> time, to pick the display name
}

// stepWork accumulates the GPU work of one step.
type stepWork struct {
	ivs         []interval
	kernels     int
	kernelNs    int64
	memcpys     int
	memcpyBytes int64
	dtoh        int
	device      int32
	hasOps      bool
}

// summary turns the loaded profile into the Summary model.
func (p *profile) summary() *Summary {
	s := &Summary{
		Schema: SummarySchema,
		Source: Source{
			File:         p.file,
			NsysVersion:  p.meta["EXPORT_PRODUCT_VERSION"],
			ExportSchema: p.meta["EXPORT_SCHEMA_VERSION"],
			TraceMode:    p.mode,
			Scope:        p.opts.Scope,
		},
		GPU:      p.gpu,
		Phases:   map[string]*Phase{},
		Kernels:  []Kernel{},
		Warnings: []Warning{},
	}
	lo, hi := p.window()
	s.Source.WindowStartNs, s.Source.WindowEndNs = lo, hi

	work := make([]stepWork, len(p.steps))
	kernels := map[int32]*kernelAgg{}
	compTime := map[string]map[string]*ComponentTime{} // phase -> component
	compOf := map[int32]string{}                       // demangled id -> component
	// Per-device accounting needs every op again, sorted; it only says
	// something when there are several devices or communication kernels.
	devices, needDevices := p.deviceNeed(compOf)
	var devOps []DeviceOp
	var all []interval
	var g Graphs
	graphKeys := map[uint64]bool{}
	mem := map[[2]string]*MemoryOp{}
	byKernel := map[string]map[int32]*PhaseKernel{} // phase -> kernel name id
	replayNs := map[string]int64{}                  // phase -> graph-replay time
	var kernelTotal int64
	for i := range p.ops {
		if !p.inScope[i] {
			continue
		}
		op := &p.ops[i]
		iv := interval{op.start, op.end}
		all = append(all, iv)
		dur := op.end - op.start
		class := OpMemory
		var w *stepWork
		phase := ""
		if st := p.opStep[i]; st >= 0 {
			w = &work[st]
			phase = p.steps[st].phase
			if !w.hasOps {
				w.device, w.hasOps = op.device, true
			}
			w.ivs = append(w.ivs, iv)
		}
		switch op.kind {
		case opKernel:
			kernelTotal += dur
			k := kernels[op.name]
			if k == nil {
				k = &kernelAgg{variants: map[int32]int64{}}
				kernels[op.name] = k
			}
			k.durations = append(k.durations, dur)
			k.total += dur
			k.variants[op.demangled] += dur
			comp, ok := compOf[op.demangled]
			if !ok {
				comp = p.classes.component(p.kernelText(op))
				compOf[op.demangled] = comp
			}
			addComp(compTime, "window", comp, dur)
			if phase != "" {
				addComp(compTime, phase, comp, dur)
			}
			class = OpCompute
			if comp == CompCommunication {
				class = OpComm
			}
			if op.inGraph {
				k.inGraph++
				g.KernelsInGraphs++
				g.TimeInGraphsNs += dur
				graphKeys[op.key] = true
			} else {
				g.KernelsOutside++
				g.TimeOutsideNs += dur
			}
			switch phase {
			case PhasePrefill:
				k.prefill++
			case PhaseDecode:
				k.decode++
			}
			if w != nil {
				w.kernels++
				w.kernelNs += dur
				addPhaseKernel(byKernel, phase, op.name, dur)
			}
		case opGraph:
			g.Replays++
			g.TimeInGraphsNs += dur
			class = OpCompute
			if w != nil {
				w.kernelNs += dur
				replayNs[phase] += dur
			}
		case opMemcpy, opMemset:
			kind, dir := "memset", ""
			if op.kind == opMemcpy {
				kind, dir = "memcpy", p.direction(op.name)
			}
			m := mem[[2]string{kind, dir}]
			if m == nil {
				m = &MemoryOp{Kind: kind, Direction: dir}
				mem[[2]string{kind, dir}] = m
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
		if needDevices {
			devOps = append(devOps, DeviceOp{Device: int(op.device), StartNs: op.start, EndNs: op.end, Class: class})
		}
	}

	p.fillPhases(s, work)
	s.Kernels = p.kernelList(kernels, kernelTotal, s.Phases)
	p.fillByKernel(s, byKernel, replayNs)
	s.Components = componentList(compTime)
	s.CUDAGraphs = graphs(g, p.mode, int64(len(graphKeys)))
	s.Memory = memoryList(mem, p.gpu.PeakBandwidth)
	s.GPUTime = gpuTime(all, lo, hi)
	s.GPU.Devices = devices
	if needDevices {
		s.GPU.Devices, s.Devices, s.Communication = p.devices(s, devOps, lo, hi)
		if s.Communication != nil {
			p.resolveGeneric(s.Communication, kernelTotal)
		}
	}
	p.warnSummary(s, work)
	s.Warnings = append(s.Warnings, p.warn...)
	sort.SliceStable(s.Warnings, func(i, j int) bool { return s.Warnings[i].Code < s.Warnings[j].Code })
	return s
}

// kernelText is the name classified into a component: the demangled name
// where the export has it (it says more: template arguments name the op).
func (p *profile) kernelText(op *gpuOp) string {
	if v, ok := p.strs[int64(op.demangled)]; ok && v != "" {
		return v
	}
	return p.kernelName(op.name)
}

// kernelName is the name of a kernel group.
func (p *profile) kernelName(id int32) string {
	if p.by == groupDemangledGridBlock {
		return p.groups[id]
	}
	return p.strs[int64(id)]
}

func (p *profile) direction(kind int32) string {
	if d, ok := p.copy[int64(kind)]; ok {
		return d
	}
	return "Unknown"
}

// window is the measured window: the scope range's projected GPU span, or
// first to last in-scope GPU op.
func (p *profile) window() (lo, hi int64) {
	if p.scope >= 0 {
		// The union of the processes' scope ranges (one per rank).
		lo, hi = -1, -1
		for _, j := range p.scopes {
			r := &p.ranges[j]
			a, b := r.start, r.end
			if r.spanStart >= 0 {
				a, b = r.spanStart, r.spanEnd
			}
			if lo < 0 || a < lo {
				lo = a
			}
			hi = max(hi, b)
		}
		return lo, hi
	}
	lo, hi = -1, -1
	for i, op := range p.ops {
		if !p.inScope[i] {
			continue
		}
		if lo < 0 || op.start < lo {
			lo = op.start
		}
		hi = max(hi, op.end)
	}
	return max(lo, 0), max(hi, 0)
}

func addComp(m map[string]map[string]*ComponentTime, phase, comp string, dur int64) {
	pm := m[phase]
	if pm == nil {
		pm = map[string]*ComponentTime{}
		m[phase] = pm
	}
	c := pm[comp]
	if c == nil {
		c = &ComponentTime{Name: comp}
		pm[comp] = c
	}
	c.TimeNs += dur
	c.Kernels++
}

// addPhaseKernel adds one launch of kernel id to its phase's totals.
func addPhaseKernel(m map[string]map[int32]*PhaseKernel, phase string, id int32, dur int64) {
	pm := m[phase]
	if pm == nil {
		pm = map[int32]*PhaseKernel{}
		m[phase] = pm
	}
	k := pm[id]
	if k == nil {
		k = &PhaseKernel{}
		pm[id] = k
	}
	k.Launches++
	k.TotalNs += dur
}

// fillByKernel sets each phase's per-kernel totals, named and classified
// as the summary's kernel rows, with the graph replays as one pseudo-entry.
func (p *profile) fillByKernel(s *Summary, byKernel map[string]map[int32]*PhaseKernel, replayNs map[string]int64) {
	comp := make(map[string]string, len(s.Kernels))
	for _, k := range s.Kernels {
		comp[k.Name] = k.Component
	}
	for name, ph := range s.Phases {
		// Ids of one name (possible where a StringIds value repeats) merge.
		byName := map[string]*PhaseKernel{}
		for id, k := range byKernel[name] {
			n := p.kernelName(id)
			if m := byName[n]; m != nil {
				m.Launches += k.Launches
				m.TotalNs += k.TotalNs
				continue
			}
			k.Name, k.Component = n, comp[n]
			byName[n] = k
		}
		out := make([]PhaseKernel, 0, len(byName)+1)
		for _, k := range byName {
			out = append(out, *k)
		}
		if ns, ok := replayNs[name]; ok {
			out = append(out, PhaseKernel{Name: GraphReplaysKernel, Component: CompOther, TotalNs: ns})
		}
		sortPhaseKernels(out)
		ph.ByKernel = out
	}
}

// sortPhaseKernels orders per-kernel totals: most time first, then by name.
func sortPhaseKernels(ks []PhaseKernel) {
	slices.SortFunc(ks, func(a, b PhaseKernel) int {
		if c := cmp.Compare(b.TotalNs, a.TotalNs); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// fillPhases makes one Phase per phase that has steps.
func (p *profile) fillPhases(s *Summary, work []stepWork) {
	byPhase := map[string][]Step{}
	for i, st := range p.steps {
		r := &p.ranges[st.rng]
		w := &work[i]
		step := Step{
			Name:        r.name,
			KernelNs:    w.kernelNs,
			Kernels:     w.kernels,
			Memcpys:     w.memcpys,
			MemcpyBytes: w.memcpyBytes,
			DtoH:        w.dtoh,
			Syncs:       st.syncs,
			Device:      int(w.device),
		}
		if r.spanStart >= 0 {
			step.StartNs = r.spanStart
			step.SpanNs = r.spanEnd - r.spanStart
			step.BusyNs = unionLength(w.ivs, r.spanStart, r.spanEnd, nil)
		}
		byPhase[st.phase] = append(byPhase[st.phase], step)
	}
	for _, name := range sortedKeys(byPhase) {
		steps := byPhase[name]
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].StartNs < steps[j].StartNs })
		ph := &Phase{Steps: len(steps), Samples: steps}
		col := func(f func(Step) int64) Stat {
			v := make([]int64, len(steps))
			for i, st := range steps {
				v[i] = f(st)
			}
			return statOf(v)
		}
		ph.Span = col(func(s Step) int64 { return s.SpanNs })
		ph.Busy = col(func(s Step) int64 { return s.BusyNs })
		ph.KernelTime = col(func(s Step) int64 { return s.KernelNs })
		ph.Kernels = col(func(s Step) int64 { return int64(s.Kernels) })
		ph.Memcpys = col(func(s Step) int64 { return int64(s.Memcpys) })
		ph.MemcpyBytes = col(func(s Step) int64 { return s.MemcpyBytes })
		ph.DtoH = col(func(s Step) int64 { return int64(s.DtoH) })
		ph.Syncs = col(func(s Step) int64 { return int64(s.Syncs) })
		s.Phases[name] = ph
	}
}

// kernelList turns the per-kernel aggregates into sorted Kernel rows:
// largest total time first, then by name.
func (p *profile) kernelList(kernels map[int32]*kernelAgg, kernelTotal int64, phases map[string]*Phase) []Kernel {
	out := make([]Kernel, 0, len(kernels))
	steps := func(name string) float64 {
		if ph := phases[name]; ph != nil {
			return float64(ph.Steps)
		}
		return 0
	}
	for id, k := range kernels {
		slices.Sort(k.durations)
		n := len(k.durations)
		// The variant with the most time names and classifies the row.
		var best int32
		var bestNs int64 = -1
		for v, ns := range k.variants {
			if ns > bestNs || (ns == bestNs && v < best) {
				best, bestNs = v, ns
			}
		}
		name := p.kernelName(id)
		dem := p.strs[int64(best)]
		if dem == name {
			dem = ""
		}
		text := dem
		if text == "" {
			text = name
		}
		row := Kernel{
			Name:      name,
			Demangled: dem,
			Component: p.classes.component(text),
			Count:     int64(n),
			TotalNs:   k.total,
			AvgNs:     float64(k.total) / float64(n),
			P50Ns:     stats.Median(k.durations),
			P90Ns:     stats.Percentile(k.durations, 0.9),
			MinNs:     k.durations[0],
			MaxNs:     k.durations[n-1],
			Share:     ratio(float64(k.total), float64(kernelTotal)),
			InGraph:   k.inGraph,
		}
		if ds := steps(PhaseDecode); ds > 0 {
			row.PerDecodeStep = float64(k.decode) / ds
		}
		if ps := steps(PhasePrefill); ps > 0 {
			row.PerPrefillStep = float64(k.prefill) / ps
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TotalNs != out[j].TotalNs {
			return out[i].TotalNs > out[j].TotalNs
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Demangled < out[j].Demangled
	})
	return out
}

// componentList orders phases (window first) and components (most time
// first) and fills the shares.
func componentList(m map[string]map[string]*ComponentTime) []PhaseComponents {
	order := map[string]int{"window": 0, PhasePrefill: 1, PhaseDecode: 2, PhaseMixed: 3}
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
// distinct launch among graph kernels; in graph mode each GRAPH_TRACE row is a
// replay whose kernels cannot be seen, so coverage by count is replays
// against all launches (replays + kernels outside graphs).
func graphs(g Graphs, mode string, nodeReplays int64) Graphs {
	g.Mode = mode
	if mode == TraceNode {
		g.Replays = nodeReplays
		g.CoverageCount = 100 * ratio(float64(g.KernelsInGraphs), float64(g.KernelsInGraphs+g.KernelsOutside))
	} else {
		g.CoverageCount = 100 * ratio(float64(g.Replays), float64(g.Replays+g.KernelsOutside))
	}
	g.CoverageTime = 100 * ratio(float64(g.TimeInGraphsNs), float64(g.TimeInGraphsNs+g.TimeOutsideNs))
	return g
}

func memoryList(m map[[2]string]*MemoryOp, peak float64) Memory {
	out := Memory{PeakBandwidth: peak, Ops: []MemoryOp{}}
	for _, op := range m {
		if op.TimeNs > 0 {
			op.GBps = float64(op.Bytes) / float64(op.TimeNs) // bytes/ns = GB/s
		}
		out.Ops = append(out.Ops, *op)
	}
	sort.Slice(out.Ops, func(i, j int) bool {
		if out.Ops[i].Kind != out.Ops[j].Kind {
			return out.Ops[i].Kind < out.Ops[j].Kind
		}
		return out.Ops[i].Direction < out.Ops[j].Direction
	})
	return out
}

func gpuTime(all []interval, lo, hi int64) GPUTime {
	t := GPUTime{WindowNs: hi - lo}
	var gaps []Gap
	t.BusyNs = unionLength(all, lo, hi, &gaps)
	t.IdleNs = t.WindowNs - t.BusyNs
	t.BusyPct = 100 * ratio(float64(t.BusyNs), float64(t.WindowNs))
	t.IdlePct = 100 * ratio(float64(t.IdleNs), float64(t.WindowNs))
	t.Gaps = longestGaps(gaps, maxGaps)
	return t
}

// deviceNeed counts the devices of the in-scope ops and says whether
// per-device accounting is needed: more than one device, or any
// communication kernel. It fills compOf (demangled id -> component).
func (p *profile) deviceNeed(compOf map[int32]string) (int, bool) {
	devs := map[int32]bool{}
	comm := false
	for i := range p.ops {
		if !p.inScope[i] {
			continue
		}
		op := &p.ops[i]
		devs[op.device] = true
		if op.kind != opKernel {
			continue
		}
		comp, ok := compOf[op.demangled]
		if !ok {
			comp = p.classes.component(p.kernelText(op))
			compOf[op.demangled] = comp
		}
		comm = comm || comp == CompCommunication
	}
	return len(devs), len(devs) > 1 || comm
}

// devices accounts busy, communication and exposed time per device (the
// DeviceAccumulator of multigpu.go) over the window and the spans of the
// steady-state steps (stepSamples: the decode steps, else every step), on
// the device each step ran on. Per-device rows are kept only for
// multi-device profiles.
func (p *profile) devices(s *Summary, ops []DeviceOp, lo, hi int64) (int, []Device, *Communication) {
	var windows []StepWindow
	for _, st := range stepSamples(s) {
		if st.SpanNs > 0 {
			windows = append(windows, StepWindow{Device: st.Device, StartNs: st.StartNs, EndNs: st.StartNs + st.SpanNs})
		}
	}
	acc, err := NewDeviceAccumulator(lo, hi, windows)
	if err != nil {
		p.warnf("devices", "per-device accounting skipped: %v", err)
		return 0, nil, nil
	}
	SortOps(ops)
	for _, op := range ops {
		if err := acc.Add(op); err != nil {
			p.warnf("devices", "per-device accounting skipped: %v", err)
			return 0, nil, nil
		}
	}
	devs := acc.Devices()
	out, comm := BuildDevices(devs, acc.Steps(), s.Kernels, p.gpu.Name)
	if len(devs) < 2 {
		out = nil
	}
	return len(devs), out, comm
}

// warnSummary adds the warnings that need the finished numbers.
func (p *profile) warnSummary(s *Summary, work []stepWork) {
	if len(p.ranges) == 0 {
		p.warnf(WarnNoNVTX, "no NVTX push/pop ranges in the export: no steps or scope can be found (trace with -t cuda,nvtx)")
	}
	if len(p.steps) == 0 {
		p.warnf(WarnNoSteps, "no step ranges found (prefill/decode or vLLM execute_context_* names): phase metrics are empty; kernel, component, memory and graph metrics cover the whole window")
	}
	if p.mode == TraceGraph {
		p.warnf(WarnGraphTrace, "traced with --cuda-graph-trace=graph: each CUDA-graph replay is one opaque GPU op, so kernels inside graphs are not listed; compare only with graph-traced profiles (use --cuda-graph-trace=node for per-kernel detail)")
	}
	if p.mode == TraceNode && s.CUDAGraphs.KernelsInGraphs == 0 && p.graphLaunches > 0 {
		p.warnf(WarnGraphsUntraced, "%d cudaGraphLaunch calls but no kernel carries a graph node id and there is no graph trace: graph work is missing from the export (trace with --cuda-graph-trace=node)", p.graphLaunches)
	}
	empty := 0
	for i := range work {
		if !work[i].hasOps {
			empty++
		}
	}
	if empty > 0 {
		p.warnf(WarnEmptySteps, "%d step ranges launched no GPU work", empty)
	}
	// Projected step spans overlapping: async work of one step spilled into
	// the next, so spans double-count.
	type span struct{ s, e int64 }
	var spans []span
	for _, st := range p.steps {
		r := &p.ranges[st.rng]
		if r.spanStart >= 0 {
			spans = append(spans, span{r.spanStart, r.spanEnd})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].s < spans[j].s })
	overlaps := 0
	var end int64 = -1
	for _, sp := range spans {
		if sp.s < end {
			overlaps++
		}
		end = max(end, sp.e)
	}
	if overlaps > 0 {
		p.warnf(WarnOverlappingStep, "%d step ranges' projected GPU spans overlap the previous step (asynchronous work spilled over): their spans double-count", overlaps)
	}
}
