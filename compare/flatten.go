package compare

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse"
)

// maxPlausibleNs bounds a duration gate believes: about 11.6 days, longer
// than any capture. Larger values (and negative ones) come from corrupt
// timestamps (an end before its start, int64 extremes) and are dropped.
const maxPlausibleNs = 1e15

// flatten turns a summary into named metrics, sorted by group then name;
// when two profile strings escape to one name, the first is kept. Names
// built from profile strings go through Segment. It also says what it had to
// drop (impossible durations), to be reported as warnings.
func flatten(s *parse.Summary, g grouping) ([]entry, []string) {
	if s == nil {
		return nil, nil
	}
	c := &collector{legacy: s.Source.Legacy, group: g}
	for _, pn := range phaseNames(s.Phases) {
		c.phase(pn, s.Phases[pn])
	}
	c.gpuMetrics(s)
	c.graphs(s)
	c.memory(s.Memory)
	c.kernels(s)
	c.components(s.Components)
	c.bandwidth(s.Bandwidth)
	c.devices(s.Devices)
	c.communication(s.Communication, len(s.Devices))
	c.extra(s.Extra)
	return c.sorted(), c.dropped
}

// collector gathers one summary's entries.
type collector struct {
	legacy  bool
	group   grouping
	out     []entry
	dropped []string
}

// familyByPattern is the family with exactly this pattern.
func familyByPattern(p string) *family {
	for i := range families {
		if families[i].pattern == p {
			return &families[i]
		}
	}
	// Unreachable for gate's own patterns (TestFlattenNamesHaveFamilies).
	return &family{pattern: p, class: ClassWindow}
}

// entryOf is an entry of family f named name.
func entryOf(f *family, name string, value float64) entry {
	return entry{name: name, fam: f, group: f.group, unit: f.unit, kind: f.kind, better: f.better, value: value, share: -1}
}

// add keeps e unless it is not a measurement: a legacy summary's missing
// values (decoded as zero) and non-finite numbers (a hand-edited or corrupt
// summary) cannot be judged, nor encoded as JSON.
func (c *collector) add(e entry) {
	if c.legacy && e.value == 0 && len(e.samples) == 0 {
		return
	}
	if math.IsNaN(e.value) || math.IsInf(e.value, 0) {
		return
	}
	for _, x := range e.samples {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			e.samples = nil
			break
		}
	}
	c.out = append(c.out, e)
}

// plausible reports whether ns can be a real duration; if not, the drop is
// noted under what.
func (c *collector) plausible(ns int64, what string) bool {
	if ns >= 0 && float64(ns) <= maxPlausibleNs {
		return true
	}
	c.dropped = append(c.dropped, fmt.Sprintf("%s: impossible duration %d ns dropped (corrupt timestamps)", what, ns))
	return false
}

// goodSteps are the steps whose durations are possible; the others are
// dropped with one note, never averaged.
func (c *collector) goodSteps(pn string, steps []parse.Step) []parse.Step {
	var good []parse.Step
	bad := 0
	for _, x := range steps {
		if x.SpanNs < 0 || x.BusyNs < 0 || x.KernelNs < 0 || x.MemcpyBytes < 0 ||
			float64(x.SpanNs) > maxPlausibleNs || float64(x.BusyNs) > maxPlausibleNs || float64(x.KernelNs) > maxPlausibleNs {
			bad++
			continue
		}
		good = append(good, x)
	}
	if bad > 0 {
		c.dropped = append(c.dropped, fmt.Sprintf("%d of %d %s steps have impossible durations (negative or beyond %g ns) and were dropped", bad, len(steps), pn, maxPlausibleNs))
	}
	return good
}

// phase adds one phase's metrics: per step (for each group of its steps
// where the steps are grouped, see grouping), then those of the phase as a
// whole (its CUDA-graph mode and coverage, its token rate).
func (c *collector) phase(pn string, ph *parse.Phase) {
	if ph == nil || ph.Steps == 0 && len(ph.Samples) == 0 {
		return
	}
	steps := c.goodSteps(pn, ph.Samples)
	if groups := c.group.split(pn, steps); groups != nil {
		for _, g := range groups {
			c.perStep(g.name, &parse.Phase{Steps: len(g.steps), Tokens: ph.Tokens, Requests: ph.Requests, Graphs: ph.Graphs}, g.steps)
		}
	} else {
		c.perStep(pn, ph, steps)
	}
	c.whole(pn, ph)
}

// perStep adds the per-step metrics of a phase (or a group of its steps):
// times with their samples, then the per-step structure as means. steps are
// its possible samples; without any (legacy summaries) the phase's own
// summaries stand in.
func (c *collector) perStep(pn string, ph *parse.Phase, steps []parse.Step) {
	p := "phases." + Segment(pn) + "."
	sampled := len(steps) > 0
	stat := func(field string, st parse.Stat, f func(parse.Step) float64) {
		e := entryOf(familyByPattern("phases.*."+field+".p50"), p+field+".p50", st.P50)
		e.sampled = true
		if sampled {
			e.samples = make([]float64, len(steps))
			for i, x := range steps {
				e.samples[i] = f(x)
			}
			e.value = stats.Median(stats.Sorted(e.samples))
		}
		c.add(e)
	}
	stat("span", ph.Span, func(x parse.Step) float64 { return float64(x.SpanNs) })
	stat("busy", ph.Busy, func(x parse.Step) float64 { return float64(x.BusyNs) })
	stat("kernel_time", ph.KernelTime, func(x parse.Step) float64 { return float64(x.KernelNs) })
	c.busyShare(p, ph, steps)
	c.perToken(p, ph, steps)

	mean := func(field string, st parse.Stat, f func(parse.Step) float64) {
		e := entryOf(familyByPattern("phases.*."+field), p+field, st.Mean)
		if sampled {
			sum := 0.0
			for _, x := range steps {
				sum += f(x)
			}
			e.value = sum / float64(len(steps))
		}
		c.add(e)
	}
	mean("kernels", ph.Kernels, func(x parse.Step) float64 { return float64(x.Kernels) })
	mean("memcpys", ph.Memcpys, func(x parse.Step) float64 { return float64(x.Memcpys) })
	mean("memcpy_bytes", ph.MemcpyBytes, func(x parse.Step) float64 { return float64(x.MemcpyBytes) })
	mean("dtoh", ph.DtoH, func(x parse.Step) float64 { return float64(x.DtoH) })
	mean("syncs", ph.Syncs, func(x parse.Step) float64 { return float64(x.Syncs) })
	if ph.Tokens != nil || named(steps) {
		mean("tokens", statOr(ph.Tokens), func(x parse.Step) float64 { return float64(x.Tokens) })
		mean("requests", statOr(ph.Requests), func(x parse.Step) float64 { return float64(x.Requests) })
	}
	if g := ph.Graphs; g != nil || graphed(steps) {
		var launches, kernels parse.Stat
		if g != nil {
			launches, kernels = g.Launches, g.Kernels
		}
		mean("graph_launches", launches, func(x parse.Step) float64 { return float64(x.GraphLaunches) })
		mean("graph_kernels", kernels, func(x parse.Step) float64 { return float64(x.GraphKernels) })
	}
	c.add(entryOf(familyByPattern("phases.*.steps"), p+"steps", float64(ph.Steps)))
}

// whole adds the metrics of a phase as a whole: its CUDA-graph mode and
// the share of its kernels inside graphs, and its tokens per second.
func (c *collector) whole(pn string, ph *parse.Phase) {
	p := "phases." + Segment(pn) + "."
	if g := ph.Graphs; g != nil {
		if rank, ok := GraphModeRank(g.Mode); ok {
			c.add(entryOf(familyByPattern("phases.*.graph_mode"), p+"graph_mode", rank))
		}
		c.add(entryOf(familyByPattern("phases.*.graph_coverage"), p+"graph_coverage", g.CoverageCount))
	}
	if ph.TokensPerS > 0 {
		c.add(entryOf(familyByPattern("phases.*.tokens_per_s"), p+"tokens_per_s", ph.TokensPerS))
	}
}

// perToken adds the step time per token of the steps that name their
// tokens, for the phases whose summary has it (prefill and mixed: their
// tokens are the prompts').
func (c *collector) perToken(p string, ph *parse.Phase, steps []parse.Step) {
	if ph.NsPerToken == nil {
		return
	}
	e := entryOf(familyByPattern("phases.*.ns_per_token.p50"), p+"ns_per_token.p50", ph.NsPerToken.P50)
	e.sampled = true
	for _, x := range steps {
		if x.Tokens > 0 {
			e.samples = append(e.samples, float64(x.SpanNs)/float64(x.Tokens))
		}
	}
	if len(e.samples) > 0 {
		e.value = stats.Median(stats.Sorted(e.samples))
	}
	c.add(e)
}

// statOr is *s, or the zero Stat.
func statOr(s *parse.Stat) parse.Stat {
	if s == nil {
		return parse.Stat{}
	}
	return *s
}

// named reports whether any step names its tokens or requests.
func named(steps []parse.Step) bool {
	for _, x := range steps {
		if x.Tokens > 0 || x.Requests > 0 {
			return true
		}
	}
	return false
}

// graphed reports whether any step launched a CUDA graph.
func graphed(steps []parse.Step) bool {
	for _, x := range steps {
		if x.GraphLaunches > 0 {
			return true
		}
	}
	return false
}

// busyShare adds each step's busy share of its span: idle gaps inside a step
// (host syncs, launch overhead) show here even when kernel time holds.
func (c *collector) busyShare(p string, ph *parse.Phase, steps []parse.Step) {
	e := entryOf(familyByPattern("phases.*.busy_pct.p50"), p+"busy_pct.p50", 0)
	e.sampled = true
	for _, x := range steps {
		if x.SpanNs > 0 {
			e.samples = append(e.samples, 100*float64(x.BusyNs)/float64(x.SpanNs))
		}
	}
	switch {
	case len(e.samples) > 0:
		e.value = stats.Median(stats.Sorted(e.samples))
		c.add(e)
	case len(steps) == 0 && ph.Span.P50 > 0 && ph.Busy.P50 > 0:
		e.value = 100 * ph.Busy.P50 / ph.Span.P50
		c.add(e)
	}
}

// gpuMetrics adds the sampled figures of each phase, as medians of its
// sampled steps with the steps as samples: bytes only where the peak DRAM
// bandwidth is known, each quantity only where the GPU sampled it.
func (c *collector) gpuMetrics(s *parse.Summary) {
	g := s.GPUMetrics
	if g == nil {
		return
	}
	for _, ph := range g.Phases {
		var steps []parse.StepGPUMetrics
		for _, x := range ph.Samples {
			if x.N > 0 {
				steps = append(steps, x)
			}
		}
		if len(steps) == 0 {
			continue
		}
		p := "gpu_metrics." + Segment(ph.Phase) + "."
		add := func(key, field string, f func(parse.StepGPUMetrics) float64) {
			if !g.Has(key) {
				return
			}
			e := entryOf(familyByPattern("gpu_metrics.*."+field+".p50"), p+field+".p50", 0)
			e.sampled = true
			e.samples = make([]float64, len(steps))
			for i, x := range steps {
				e.samples[i] = f(x)
			}
			e.value = stats.Median(stats.Sorted(e.samples))
			c.add(e)
		}
		if s.GPU.PeakBandwidth > 0 {
			add(parse.SampledDRAMRead, "dram_read_bytes", func(x parse.StepGPUMetrics) float64 { return x.DRAMReadBytes })
			add(parse.SampledDRAMWrite, "dram_write_bytes", func(x parse.StepGPUMetrics) float64 { return x.DRAMWriteBytes })
		}
		add(parse.SampledDRAMRead, "dram_read_pct", func(x parse.StepGPUMetrics) float64 { return x.DRAMRead })
		add(parse.SampledDRAMWrite, "dram_write_pct", func(x parse.StepGPUMetrics) float64 { return x.DRAMWrite })
		add(parse.SampledSMActive, "sm_active", func(x parse.StepGPUMetrics) float64 { return x.SMActive })
		add(parse.SampledTensorActive, "tensor_active", func(x parse.StepGPUMetrics) float64 { return x.TensorActive })
		add(parse.SampledPCIeRX, "pcie_rx", func(x parse.StepGPUMetrics) float64 { return x.PCIeRX })
		add(parse.SampledPCIeTX, "pcie_tx", func(x parse.StepGPUMetrics) float64 { return x.PCIeTX })
	}
}

func (c *collector) graphs(s *parse.Summary) {
	g := s.CUDAGraphs
	if g.KernelsInGraphs+g.KernelsOutside > 0 || g.Replays > 0 {
		e := entryOf(familyByPattern("cuda_graphs.outside"), "cuda_graphs.outside", float64(g.KernelsOutside))
		if g.KernelsInGraphs == 0 && g.Replays == 0 {
			// An eager run launches everything outside a graph: the count
			// is its whole-run launches, which kernels per step judge.
			e.ungated = "the base ran no work inside CUDA graphs, so every launch is outside one (kernels per step judge them): not gated"
		}
		c.add(e)
	}
	c.add(entryOf(familyByPattern("cuda_graphs.coverage_count"), "cuda_graphs.coverage_count", g.CoverageCount))
	c.add(entryOf(familyByPattern("cuda_graphs.coverage_time"), "cuda_graphs.coverage_time", g.CoverageTime))
	if s.GPUTime.WindowNs > 0 {
		c.add(entryOf(familyByPattern("gpu_time.busy_pct"), "gpu_time.busy_pct", s.GPUTime.BusyPct))
	}
}

func (c *collector) memory(m parse.Memory) {
	fc, fb, fr := familyByPattern("memory.*.*.count"), familyByPattern("memory.*.*.bytes"), familyByPattern("memory.*.*.gbps")
	for _, op := range m.Ops {
		p := "memory." + Segment(op.Kind) + "." + Segment(op.Direction) + "."
		c.add(entryOf(fc, p+"count", float64(op.Count)))
		c.add(entryOf(fb, p+"bytes", float64(op.Bytes)))
		c.add(entryOf(fr, p+"gbps", op.GBps*1e9))
	}
}

// kernels adds per-kernel totals, launches per decode step and launches.
// Each carries the kernel's share, which decides whether it is gated.
func (c *collector) kernels(s *parse.Summary) {
	ft, fp, fc := familyByPattern("kernels.*.total"), familyByPattern("kernels.*.per_step"), familyByPattern("kernels.*.count")
	_, hasDecode := s.Phases[parse.PhaseDecode]
	for _, k := range s.Kernels {
		p := "kernels." + Segment(k.Name) + "."
		if !c.plausible(k.TotalNs, "kernel "+strconv.Quote(k.Name)) {
			continue
		}
		for _, e := range []entry{entryOf(ft, p+"total", float64(k.TotalNs)), entryOf(fp, p+"per_step", k.PerDecodeStep), entryOf(fc, p+"count", float64(k.Count))} {
			if e.fam == fp && !hasDecode {
				continue
			}
			e.share = k.Share
			c.add(e)
		}
	}
}

func (c *collector) components(pcs []parse.PhaseComponents) {
	fs, ft := familyByPattern("components.*.*.share"), familyByPattern("components.*.*.time")
	for _, pc := range pcs {
		for _, comp := range pc.Components {
			p := "components." + Segment(pc.Phase) + "." + Segment(comp.Name) + "."
			if !c.plausible(comp.TimeNs, "component "+pc.Phase+"/"+comp.Name) {
				continue
			}
			c.add(entryOf(fs, p+"share", 100*comp.Share))
			c.add(entryOf(ft, p+"time", float64(comp.TimeNs)))
		}
	}
}

func (c *collector) bandwidth(bw *parse.Bandwidth) {
	if bw == nil {
		return
	}
	fr, fp, fb := familyByPattern("bandwidth.*.gbps"), familyByPattern("bandwidth.*.pct_peak"), familyByPattern("bandwidth.*.bytes")
	for _, k := range bw.Kernels {
		p := "bandwidth." + Segment(k.Name) + "."
		c.add(entryOf(fr, p+"gbps", k.GBps*1e9))
		c.add(entryOf(fp, p+"pct_peak", k.PctPeak))
		// DRAM bytes per launch: the same work moving more data (a wider
		// KV cache, a lost fusion) shows here even when GB/s does not.
		c.add(entryOf(fb, p+"bytes", k.BytesRead+k.BytesWritten))
	}
}

func (c *collector) devices(ds []parse.Device) {
	f := familyByPattern("devices.*.busy_pct")
	for _, d := range ds {
		c.add(entryOf(f, "devices."+strconv.Itoa(d.ID)+".busy_pct", d.BusyPct))
	}
}

func (c *collector) communication(cm *parse.Communication, devices int) {
	if cm == nil {
		return
	}
	c.add(entryOf(familyByPattern("communication.exposed_pct"), "communication.exposed_pct", cm.ExposedPct))
	if devices > 1 {
		c.add(entryOf(familyByPattern("communication.imbalance"), "communication.imbalance", cm.Imbalance*100))
	}
	if len(cm.ExposedSamples) > 0 {
		e := entryOf(familyByPattern("communication.exposed.p50"), "communication.exposed.p50", 0)
		e.sampled = true
		e.samples = append([]float64(nil), cm.ExposedSamples...)
		e.value = stats.Median(stats.Sorted(e.samples))
		c.add(e)
	}
	ft, fc := familyByPattern("communication.*.time"), familyByPattern("communication.*.count")
	for _, col := range cm.Collectives {
		p := "communication." + Segment(col.Name) + "."
		c.add(entryOf(ft, p+"time", float64(col.TimeNs)))
		// The number of collectives is structural: an extra all-reduce
		// per layer shows here without any timing noise.
		c.add(entryOf(fc, p+"count", float64(col.Count)))
	}
}

// extra adds the user's metrics in their own unit and direction.
func (c *collector) extra(xs []parse.ExtraMetric) {
	f := familyByPattern("extra.*")
	for _, x := range xs {
		e := entryOf(f, "extra."+Segment(x.Name), x.Value)
		e.unit, e.better = Unit(x.Unit), Better(x.Better)
		if e.better != Higher && e.better != Lower {
			// Descriptive values (token totals, request counts, KV-cache
			// use) have no better direction: shown, never gated.
			e.better = Descriptive
		}
		if e.unit == "" {
			e.unit = UnitCount
		}
		if len(x.Samples) > 0 {
			e.kind, e.sampled = Stat, true
			e.samples = append([]float64(nil), x.Samples...)
		}
		c.add(e)
	}
}

// sorted orders the entries by group, name, then position (an index sort:
// entries are large) and keeps the first of two equal names.
func (c *collector) sorted() []entry {
	out := c.out
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		ea, eb := &out[idx[a]], &out[idx[b]]
		if ea.name != eb.name {
			return lessMetric(ea.group, ea.name, eb.group, eb.name)
		}
		return idx[a] < idx[b]
	})
	sorted := make([]entry, 0, len(out))
	for _, i := range idx {
		if len(sorted) > 0 && out[i].name == sorted[len(sorted)-1].name {
			continue
		}
		sorted = append(sorted, out[i])
	}
	return sorted
}
